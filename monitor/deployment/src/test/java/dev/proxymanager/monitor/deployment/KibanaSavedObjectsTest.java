package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class KibanaSavedObjectsTest {

    private static final Set<String> NUMERIC = Set.of("long", "integer", "short", "byte", "double", "float",
            "half_float", "scaled_float", "unsigned_long");
    /** Field types a Lens operation can aggregate on; operations missing here take any field with doc values. */
    private static final Map<String, Set<String>> OPERATION_TYPES = Map.of(
            "date_histogram", Set.of("date", "date_nanos"),
            "terms", union(Set.of("keyword", "boolean", "ip"), NUMERIC),
            "percentile", NUMERIC,
            "median", NUMERIC,
            "sum", NUMERIC,
            "average", NUMERIC,
            "min", union(NUMERIC, Set.of("date")),
            "max", union(NUMERIC, Set.of("date")));
    /** A field before a colon in KQL: {@code status : 200}, {@code NOT event : *}. */
    private static final Pattern KQL_FIELD = Pattern.compile("([@A-Za-z_][\\w.@]*)\\s*:");

    private final KibanaSavedObjects saved = KibanaSavedObjects.read();
    private final List<IndexTemplate> templates = IndexTemplate.all();

    @Test
    void everyReferenceBetweenSavedObjectsResolves() {
        assertThat(saved.objects()).isNotEmpty();
        for (JsonNode object : saved.objects()) {
            for (JsonNode reference : object.path("references")) {
                assertThat(saved.find(reference.path("type").asText(), reference.path("id").asText()))
                        .as("%s/%s references %s", object.path("type").asText(), object.path("id").asText(), reference)
                        .isPresent();
            }
        }
    }

    @Test
    void savedObjectIdsAreUnique() {
        Set<String> seen = new HashSet<>();
        for (JsonNode object : saved.objects()) {
            assertThat(seen.add(object.path("type").asText() + "/" + object.path("id").asText()))
                    .as("duplicate %s/%s", object.path("type").asText(), object.path("id").asText()).isTrue();
        }
    }

    @Test
    void dataViewsCoverTheRequestLogTheCacheAndTheLogsWithADateTimeField() {
        Map<String, String> expected = Map.of(
                "proxy-manager-requests", IndexTemplate.REQUEST_LOG,
                "proxy-manager-cache", IndexTemplate.CACHE,
                "proxy-manager-logs", IndexTemplate.LOGS);

        assertThat(saved.ofType("index-pattern")).extracting(o -> o.path("id").asText())
                .containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((id, templateFile) -> {
            JsonNode attributes = saved.get("index-pattern", id).path("attributes");
            IndexTemplate template = templateFor(attributes.path("title").asText());
            assertThat(template.file()).as("template of data view %s", id).isEqualTo(templateFile);
            assertThat(template.fieldTypes().get(attributes.path("timeFieldName").asText()))
                    .as("time field of data view %s", id).isEqualTo("date");
        });
    }

    @Test
    void everyFieldALensVisualizationUsesIsMappedWithACompatibleType() {
        List<String> checked = new ArrayList<>();
        for (JsonNode lens : saved.ofType("lens")) {
            String title = lens.path("attributes").path("title").asText();
            lens.path("attributes").path("state").path("datasourceStates").path("formBased").path("layers")
                    .properties().forEach(layer -> {
                        IndexTemplate template = templateOfLayer(lens, layer.getKey());
                        for (JsonNode column : layer.getValue().path("columns")) {
                            String field = column.path("sourceField").asText("");
                            if (field.isEmpty() || field.equals("___records___")) {
                                continue;
                            }
                            String type = template.fieldTypes().get(field);
                            String operation = column.path("operationType").asText();
                            assertThat(type).as("%s: field %s in %s", title, field, template.file()).isNotNull();
                            assertThat(type).as("%s: %s on %s", title, operation, field)
                                    .isIn(OPERATION_TYPES.getOrDefault(operation, aggregatable(type)));
                            checked.add(title + ":" + field);
                        }
                    });
        }
        assertThat(checked).as("fields checked").hasSizeGreaterThan(20);
    }

    @Test
    void everyFieldALensQueryFiltersOnIsMapped() {
        for (JsonNode lens : saved.ofType("lens")) {
            JsonNode state = lens.path("attributes").path("state");
            assertThat(state.path("query").path("language").asText()).isEqualTo("kuery");
            String query = state.path("query").path("query").asText();
            Set<IndexTemplate> layerTemplates = new HashSet<>();
            state.path("datasourceStates").path("formBased").path("layers").properties()
                    .forEach(layer -> layerTemplates.add(templateOfLayer(lens, layer.getKey())));
            Matcher fields = KQL_FIELD.matcher(query);
            while (fields.find()) {
                String field = fields.group(1);
                for (IndexTemplate template : layerTemplates) {
                    assertThat(template.fieldTypes()).as("%s: query field %s",
                            lens.path("attributes").path("title").asText(), field).containsKey(field);
                }
            }
        }
    }

    @Test
    void lensVisualizationsOnlyNameColumnsTheirLayersDefine() {
        for (JsonNode lens : saved.ofType("lens")) {
            String title = lens.path("attributes").path("title").asText();
            JsonNode layers = lens.path("attributes").path("state").path("datasourceStates").path("formBased")
                    .path("layers");
            Set<String> columns = new HashSet<>();
            layers.properties().forEach(layer -> {
                Set<String> own = new HashSet<>();
                layer.getValue().path("columns").properties().forEach(c -> own.add(c.getKey()));
                Set<String> order = new HashSet<>();
                layer.getValue().path("columnOrder").forEach(c -> order.add(c.asText()));
                assertThat(order).as("%s: columnOrder of %s", title, layer.getKey()).isEqualTo(own);
                for (JsonNode column : layer.getValue().path("columns")) {
                    JsonNode orderBy = column.path("params").path("orderBy");
                    if (orderBy.path("type").asText().equals("column")) {
                        assertThat(own).as("%s: terms ordered by", title).contains(orderBy.path("columnId").asText());
                    }
                }
                columns.addAll(own);
            });
            Set<String> used = new HashSet<>();
            collectAccessors(lens.path("attributes").path("state").path("visualization"), used);
            assertThat(used).as("%s: columns used by the chart", title).isNotEmpty();
            assertThat(columns).as("%s: columns defined", title).containsAll(used);
            JsonNode visualization = lens.path("attributes").path("state").path("visualization");
            List<JsonNode> visualizationLayers = new ArrayList<>();
            visualization.path("layers").forEach(visualizationLayers::add);
            if (visualization.has("layerId")) {
                visualizationLayers.add(visualization);
            }
            for (JsonNode layer : visualizationLayers) {
                assertThat(layers.has(layer.path("layerId").asText()))
                        .as("%s: chart layer %s has a data layer", title, layer.path("layerId").asText()).isTrue();
            }
        }
    }

    /**
     * A terms column on a field that some documents lack drops those documents unless it has a missing bucket (or
     * the panel's query keeps only documents that have the field): "Errors by type" lost every failure, ban and
     * rate limit that way, since only timeouts and connection errors carry an error_type.
     */
    @Test
    void noPanelGroupsByAFieldSomeOfItsDocumentsLackWithoutAMissingBucket() {
        Map<String, Set<String>> alwaysSet = Map.of(
                IndexTemplate.REQUEST_LOG, LogFieldNames.inEveryRequestLogDocument(),
                IndexTemplate.CACHE, LogFieldNames.inEveryCacheDocument());
        List<String> checked = new ArrayList<>();
        for (JsonNode lens : saved.ofType("lens")) {
            String title = lens.path("attributes").path("title").asText();
            String query = lens.path("attributes").path("state").path("query").path("query").asText();
            lens.path("attributes").path("state").path("datasourceStates").path("formBased").path("layers")
                    .properties().forEach(layer -> {
                        IndexTemplate template = templateOfLayer(lens, layer.getKey());
                        for (JsonNode column : layer.getValue().path("columns")) {
                            if (!column.path("operationType").asText().equals("terms")) {
                                continue;
                            }
                            String field = column.path("sourceField").asText();
                            boolean inEveryDocument = alwaysSet.getOrDefault(template.file(), Set.of()).contains(field);
                            boolean queryRequiresIt = Pattern.compile("(?<!NOT )\\b" + Pattern.quote(field) + "\\s*:\\s*\\*")
                                    .matcher(query).find();
                            assertThat(inEveryDocument || queryRequiresIt
                                    || column.path("params").path("missingBucket").asBoolean(false))
                                    .as("%s: terms on %s, which some documents lack, needs missingBucket", title, field)
                                    .isTrue();
                            checked.add(title + ":" + field);
                        }
                    });
        }
        assertThat(checked).hasSizeGreaterThanOrEqualTo(5);
    }

    @Test
    void errorsPanelShowsEveryNonSuccessOutcomeItsDescriptionLists() {
        JsonNode errors = saved.get("lens", "pm-errors-by-type").path("attributes");
        JsonNode columns = errors.path("state").path("datasourceStates").path("formBased").path("layers")
                .path("layer1").path("columns");

        assertThat(errors.path("description").asText()).contains("failure", "banned", "rate_limited");
        assertThat(columns.path("error").path("params").path("missingBucket").asBoolean()).isTrue();
        assertThat(columns.path("outcome").path("params").path("size").asInt())
                .as("one bar per listed outcome").isGreaterThanOrEqualTo(5);
        assertThat(errors.path("state").path("query").path("query").asText()).doesNotContain("error_type");
    }

    /**
     * Lens takes a fixed interval as a minimum and widens it over long ranges: a count per bucket then is not "per
     * minute". A panel drawn against a per-unit reference line must normalise its metrics to that unit
     * (timeScale), so a bar of a 30-minute bucket is still requests per minute.
     */
    @Test
    void metricsDrawnAgainstAPerUnitLimitLineAreNormalisedToThatUnit() {
        Map<String, String> units = Map.of("s", "second", "m", "minute", "h", "hour", "d", "day");
        List<String> checked = new ArrayList<>();
        for (JsonNode lens : saved.ofType("lens")) {
            String title = lens.path("attributes").path("title").asText();
            JsonNode layers = lens.path("attributes").path("state").path("datasourceStates").path("formBased")
                    .path("layers");
            List<String> lineLabels = new ArrayList<>();
            for (JsonNode layer : lens.path("attributes").path("state").path("visualization").path("layers")) {
                if (layer.path("layerType").asText().equals("referenceLine")) {
                    for (JsonNode accessor : layer.path("accessors")) {
                        lineLabels.add(layers.path(layer.path("layerId").asText()).path("columns")
                                .path(accessor.asText()).path("label").asText());
                    }
                }
            }
            if (lineLabels.isEmpty()) {
                continue;
            }
            for (JsonNode layer : lens.path("attributes").path("state").path("visualization").path("layers")) {
                if (!layer.path("layerType").asText().equals("data")) {
                    continue;
                }
                for (JsonNode accessor : layer.path("accessors")) {
                    JsonNode metric = layers.path(layer.path("layerId").asText()).path("columns").path(accessor.asText());
                    String timeScale = metric.path("timeScale").asText("");
                    assertThat(units).as("%s: %s has a timeScale", title, accessor.asText()).containsKey(timeScale);
                    for (String label : lineLabels) {
                        assertThat(label).as("%s: the limit line's unit", title).contains("/" + units.get(timeScale));
                    }
                    checked.add(title);
                }
            }
        }
        assertThat(checked).contains(saved.get("lens", "pm-usage-per-secret").path("attributes").path("title").asText());
    }

    /**
     * An answer from the cache (a hit, or a stale entry served) is logged as attempt 0 and reaches no upstream: panels
     * about upstream attempts, their status, latency, errors and secret usage count attempts 1 and up only. The cache
     * panels, the secret events and the top requested URLs keep the cache's answers.
     */
    @Test
    void upstreamPanelsOfTheRequestLogLeaveCacheHitsOut() {
        Set<String> keepHits = Set.of("pm-cache-hit-ratio", "pm-top-urls");
        List<String> checked = new ArrayList<>();
        for (JsonNode lens : saved.ofType("lens")) {
            String query = lens.path("attributes").path("state").path("query").path("query").asText();
            boolean onRequestLog = lens.path("references").findValuesAsText("id").contains("proxy-manager-requests");
            boolean eventsOnly = Pattern.compile("(?<!NOT )\\bevent\\s*:\\s*\\*").matcher(query).find();
            if (!onRequestLog || eventsOnly || keepHits.contains(lens.path("id").asText())) {
                continue;
            }
            assertThat(query).as("%s: query", lens.path("attributes").path("title").asText())
                    .contains("attempt >= 1");
            checked.add(lens.path("id").asText());
        }
        assertThat(checked).contains("pm-status-codes", "pm-latency-percentiles", "pm-requests-by-endpoint");
    }

    @Test
    void dashboardPanelsEachResolveToALensVisualization() throws Exception {
        JsonNode dashboard = saved.get("dashboard", "proxy-manager");
        JsonNode panels = new ObjectMapper().readTree(dashboard.path("attributes").path("panelsJSON").asText());

        assertThat(panels).isNotEmpty();
        for (JsonNode panel : panels) {
            String name = panel.path("panelIndex").asText() + ":" + panel.path("panelRefName").asText();
            JsonNode reference = KibanaSavedObjects.reference(dashboard, name)
                    .orElseThrow(() -> new AssertionError("dashboard panel " + name + " has no reference"));
            assertThat(reference.path("type").asText()).isEqualTo(panel.path("type").asText());
            assertThat(saved.find(reference.path("type").asText(), reference.path("id").asText())).isPresent();
            assertThat(panel.path("gridData").path("i").asText()).isEqualTo(panel.path("panelIndex").asText());
            assertThat(panel.path("gridData").path("x").asInt() + panel.path("gridData").path("w").asInt())
                    .as("panel %s fits the 48-column grid", name).isLessThanOrEqualTo(48);
        }
    }

    @Test
    void dashboardIsCalledProxyManagerAndShowsEveryPanelTheIssueAsksFor() throws Exception {
        JsonNode dashboard = saved.get("dashboard", "proxy-manager");
        assertThat(dashboard.path("attributes").path("title").asText()).isEqualTo("Proxy Manager");
        JsonNode panels = new ObjectMapper().readTree(dashboard.path("attributes").path("panelsJSON").asText());
        List<String> shown = new ArrayList<>();
        for (JsonNode panel : panels) {
            String name = panel.path("panelIndex").asText() + ":" + panel.path("panelRefName").asText();
            shown.add(KibanaSavedObjects.reference(dashboard, name).orElseThrow().path("id").asText());
        }

        assertThat(shown).contains(
                "pm-requests-by-endpoint",
                "pm-usage-per-secret",
                "pm-cache-hit-ratio",
                "pm-status-codes",
                "pm-errors-by-type",
                "pm-latency-percentiles",
                "pm-cooldowns-and-bans",
                "pm-top-urls",
                "pm-dropped-log-documents",
                "pm-upstream-quota");
        assertThat(saved.get("lens", "pm-latency-percentiles").toString())
                .contains("\"percentile\":50", "\"percentile\":95", "\"percentile\":99");
        assertThat(saved.get("lens", "pm-usage-per-secret").toString())
                .contains("\"sourceField\":\"secret_id\"", "\"layerType\":\"referenceLine\"");
    }

    @Test
    void upstreamQuotaPanelDrawsTheReportedRemainingOverTimePerSecretId() {
        JsonNode quota = saved.get("lens", "pm-upstream-quota").path("attributes");
        JsonNode columns = quota.path("state").path("datasourceStates").path("formBased").path("layers")
                .path("layer1").path("columns");

        assertThat(columns.path("time").path("operationType").asText()).isEqualTo("date_histogram");
        assertThat(columns.path("secret").path("sourceField").asText()).isEqualTo("secret_id");
        assertThat(columns.path("remaining").path("sourceField").asText()).isEqualTo("upstream_remaining");
        assertThat(LogFieldNames.all()).contains("upstream_remaining", "upstream_limit", "upstream_reset");
        assertThat(quota.path("state").path("query").path("query").asText()).contains("upstream_remaining : *");
    }

    @Test
    void logsTemplateMapsEveryLogFieldWithTheSameTypeAsTheRequestLog() {
        IndexTemplate requestLog = IndexTemplate.read(IndexTemplate.REQUEST_LOG);
        IndexTemplate logs = IndexTemplate.read(IndexTemplate.LOGS);

        for (String field : LogFieldNames.all()) {
            assertThat(logs.fieldTypes()).as("logs template").containsKey(field);
            if (requestLog.fieldTypes().containsKey(field)) {
                assertThat(logs.fieldTypes().get(field)).as("logs template field %s", field)
                        .isEqualTo(requestLog.fieldTypes().get(field));
            }
        }
        for (String encoderField : List.of("@timestamp", "message", "logger_name", "level", "thread_name",
                "log_documents_dropped")) {
            assertThat(logs.fieldTypes()).containsKey(encoderField);
        }
        assertThat(logs.fieldTypes().get("log_documents_dropped")).isIn(NUMERIC);
    }

    private IndexTemplate templateOfLayer(JsonNode lens, String layerId) {
        JsonNode reference = KibanaSavedObjects.reference(lens, "indexpattern-datasource-layer-" + layerId)
                .orElseThrow(() -> new AssertionError(lens.path("id").asText() + ": layer " + layerId
                        + " has no data view reference"));
        assertThat(reference.path("type").asText()).isEqualTo("index-pattern");
        JsonNode dataView = saved.get("index-pattern", reference.path("id").asText());
        return templateFor(dataView.path("attributes").path("title").asText());
    }

    private IndexTemplate templateFor(String dataViewTitle) {
        List<IndexTemplate> matching = templates.stream().filter(t -> t.covers(dataViewTitle)).toList();
        assertThat(matching).as("index templates covering %s", dataViewTitle).hasSize(1);
        return matching.getFirst();
    }

    private static void collectAccessors(JsonNode node, Set<String> into) {
        if (node.isObject()) {
            node.properties().forEach(entry -> {
                String key = entry.getKey();
                JsonNode value = entry.getValue();
                if ((key.equals("xAccessor") || key.equals("splitAccessor") || key.equals("forAccessor")
                        || key.equals("columnId")) && value.isTextual()) {
                    into.add(value.asText());
                } else if ((key.equals("accessors") || key.equals("primaryGroups") || key.equals("metrics"))
                        && value.isArray()) {
                    value.forEach(v -> into.add(v.asText()));
                } else {
                    collectAccessors(value, into);
                }
            });
        } else if (node.isArray()) {
            node.forEach(element -> collectAccessors(element, into));
        }
    }

    private static Set<String> aggregatable(String type) {
        return type.equals("text") || type.equals("object") ? Set.of() : Set.of(type);
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
