package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * No dependency cycles among the agent's packages: a package that needs another must not be needed back, so
 * the package map in agent/README.md reads as layers. The graph comes from the JDK's own {@code jdeps} over
 * the compiled main classes (the bytecode, so a reference through a field type or a lambda counts as much
 * as an import does); no extra dependency, and it sees exactly what the compiler produced.
 */
class PackageCyclesTest {

    private static final String ROOT = "io.gpuagent.agent";

    @Test
    void theAgentsPackagesFormNoCycle() throws Exception {
        Map<String, Map<String, Set<String>>> graph = packageGraph(classesDir());
        assertTrue(graph.size() > 5, "jdeps saw only " + graph.keySet() + "; is target/classes the agent's?");

        List<String> cycles = new ArrayList<>();
        for (Set<String> component : stronglyConnected(graph)) {
            if (component.size() > 1) {
                cycles.add(describe(component, graph));
            }
        }
        assertEquals(List.of(), cycles, "package cycles (break each by moving the named class, or by "
                + "depending on an interface the lower package owns)");
    }

    /** The check is only worth something if it sees a cycle when there is one. */
    @Test
    void aCycleIsFound() {
        Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
        graph.put("a", Map.of("b", Set.of("A1 -> B1")));
        graph.put("b", Map.of("c", Set.of("B1 -> C1")));
        graph.put("c", Map.of("a", Set.of("C1 -> A1")));
        graph.put("d", Map.of("a", Set.of("D1 -> A1")));
        List<Set<String>> components = stronglyConnected(graph);
        assertTrue(components.contains(Set.of("a", "b", "c")), components.toString());
        assertFalse(components.stream().anyMatch(c -> c.contains("d") && c.size() > 1), components.toString());
    }

    private static Path classesDir() throws URISyntaxException {
        // AgentConfig is a main class: its code source is target/classes, whatever the working directory.
        Path dir = Path.of(AgentConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(dir), dir + " is not a directory of classes");
        return dir;
    }

    /** package -> (package it needs -> "Class -> Class" edges that make the need), agent packages only. */
    static Map<String, Map<String, Set<String>>> packageGraph(Path classes) {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps")
                .orElseThrow(() -> new AssertionError("this JDK has no jdeps (module jdk.jdeps)"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:class", "-filter:package",
                "-e", ROOT.replace(".", "\\.") + "(\\..*)?", classes.toString());
        assertEquals(0, rc, "jdeps failed: " + err);

        Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
        for (String line : out.toString().split("\n")) {
            // "   io.gpuagent.agent.lease.LeaseBook   -> io.gpuagent.agent.journal.JsonlJournal   classes"
            String[] f = line.trim().split("\\s+");
            if (f.length < 3 || !f[1].equals("->") || !f[0].startsWith(ROOT + ".")) {
                continue;
            }
            String from = outerClass(f[0]);
            String to = outerClass(f[2]);
            String fromPackage = packageOf(from);
            String toPackage = packageOf(to);
            graph.computeIfAbsent(fromPackage, p -> new TreeMap<>());
            if (!fromPackage.equals(toPackage)) {
                graph.get(fromPackage).computeIfAbsent(toPackage, p -> new TreeSet<>())
                        .add(simpleName(from) + " -> " + simpleName(to));
            }
        }
        return graph;
    }

    /** Tarjan's strongly connected components; a component of more than one package is a cycle. */
    static List<Set<String>> stronglyConnected(Map<String, Map<String, Set<String>>> graph) {
        var state = new Object() {
            final Map<String, Integer> index = new HashMap<>();
            final Map<String, Integer> low = new HashMap<>();
            final Deque<String> stack = new ArrayDeque<>();
            final Set<String> onStack = new TreeSet<>();
            final List<Set<String>> components = new ArrayList<>();

            void visit(String v) {
                index.put(v, index.size());
                low.put(v, index.get(v));
                stack.push(v);
                onStack.add(v);
                for (String w : graph.getOrDefault(v, Map.of()).keySet()) {
                    if (!index.containsKey(w)) {
                        visit(w);
                        low.put(v, Math.min(low.get(v), low.get(w)));
                    } else if (onStack.contains(w)) {
                        low.put(v, Math.min(low.get(v), index.get(w)));
                    }
                }
                if (low.get(v).equals(index.get(v))) {
                    Set<String> component = new TreeSet<>();
                    String w;
                    do {
                        w = stack.pop();
                        onStack.remove(w);
                        component.add(w);
                    } while (!w.equals(v));
                    components.add(component);
                }
            }
        };
        for (String v : graph.keySet()) {
            if (!state.index.containsKey(v)) {
                state.visit(v);
            }
        }
        return state.components;
    }

    private static String describe(Set<String> component, Map<String, Map<String, Set<String>>> graph) {
        StringBuilder s = new StringBuilder("cycle among " + component.stream().map(PackageCyclesTest::shortName)
                .toList() + ":");
        for (String from : component) {
            graph.getOrDefault(from, Map.of()).forEach((to, edges) -> {
                if (component.contains(to)) {
                    s.append("\n  ").append(shortName(from)).append(" -> ").append(shortName(to))
                            .append(": ").append(edges);
                }
            });
        }
        return s.toString();
    }

    private static String outerClass(String name) {
        int dollar = name.indexOf('$');
        return dollar < 0 ? name : name.substring(0, dollar);
    }

    private static String packageOf(String className) {
        return className.substring(0, className.lastIndexOf('.'));
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private static String shortName(String pkg) {
        return pkg.equals(ROOT) ? "(root)" : pkg.substring(ROOT.length() + 1);
    }
}
