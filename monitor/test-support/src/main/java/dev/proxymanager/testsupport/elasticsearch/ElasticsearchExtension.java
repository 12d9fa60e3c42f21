package dev.proxymanager.testsupport.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Gives a test a real Elasticsearch: add {@code @ExtendWith(ElasticsearchExtension.class)} and declare a parameter
 * of type {@link ElasticsearchTestNode} (or {@link ElasticsearchClient}) on a test, lifecycle method or constructor.
 *
 * <p>The node is chosen once per test JVM and shared by every test class (see {@link SharedElasticsearch}):
 * {@code ELASTICSEARCH_URL} when set, else a Testcontainers Elasticsearch when a Docker engine is reachable, else
 * the local node from {@code proxy-manager-elasticsearch-local}. When none can be had the test fails with the
 * reason; it never skips. Each test class gets its own index names through {@link ElasticsearchTestNode#index}.
 *
 * <p>This class is threadsafe.
 */
public final class ElasticsearchExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ElasticsearchExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == ElasticsearchTestNode.class || type == ElasticsearchClient.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        ElasticsearchTestNode node = nodeFor(extensionContext);
        Class<?> type = parameterContext.getParameter().getType();
        if (type == ElasticsearchClient.class) {
            return node.client();
        }
        return node;
    }

    private static ElasticsearchTestNode nodeFor(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        // one view per test class, so every test of a class sees the same index names
        ExtensionContext classContext = context.getRoot();
        return classContext.getStore(NAMESPACE).getOrComputeIfAbsent(testClass, c -> {
            SharedElasticsearch shared;
            try {
                shared = SharedElasticsearch.get();
            } catch (RuntimeException e) {
                throw new ParameterResolutionException("no Elasticsearch for " + testClass.getName() + ": "
                        + e.getMessage(), e);
            }
            return new ElasticsearchTestNode(shared, indexPrefix(testClass));
        }, ElasticsearchTestNode.class);
    }

    private static String indexPrefix(Class<?> testClass) {
        String name = testClass.getSimpleName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        String token = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
        return "t-" + name + "-" + token;
    }
}
