package dev.proxymanager.middleware.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.proxymanager.middleware.elastic.IndexTemplates;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The template file, LogFields and the documents must agree: they are read by Logstash and Kibana too. */
class TemplateFieldsTest {

    @Test
    void everyDocumentFieldInLogFieldsIsMappedInTheRequestLogTemplate() throws IllegalAccessException {
        ObjectNode template = IndexTemplates.load(ElasticsearchRequestLog.class, "request-log-template.json");
        JsonNode properties = template.path("template").path("mappings").path("properties");

        List<String> documentFields = new ArrayList<>();
        for (Field f : LogFields.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && !f.getName().startsWith("LOG_")) {
                documentFields.add((String) f.get(null));
            }
        }

        assertThat(documentFields).isNotEmpty().allSatisfy(name -> assertThat(properties.has(name))
                .as("field %s mapped in request-log-template.json", name).isTrue());
        assertThat(properties.path(LogFields.URL).path("fields").path("text").path("type").asText()).isEqualTo("text");
        assertThat(template.has("data_stream")).isTrue();
    }
}
