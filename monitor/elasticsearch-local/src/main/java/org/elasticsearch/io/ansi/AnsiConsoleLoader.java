package org.elasticsearch.io.ansi;

import java.util.function.Supplier;

/**
 * Stand-in for the distribution's {@code lib/tools/ansi-console} jar, which is not published to Maven Central.
 * The node asks it for an ANSI console; answering {@code null} means "no console", which is what a node whose
 * output goes to a file wants anyway.
 */
public class AnsiConsoleLoader implements Supplier<Object> {
    public AnsiConsoleLoader() {
    }

    @Override
    public Object get() {
        return null;
    }
}
