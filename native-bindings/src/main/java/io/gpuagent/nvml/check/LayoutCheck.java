package io.gpuagent.nvml.check;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compares the bindings' {@link MemoryLayout}s with struct layouts a C compiler computed against a real
 * {@code nvml.h} (tools/nvml_layout.c), in the text format of src/test/resources/golden/layout_13.3.txt (docs/nvml.md#struct-layouts):
 * <pre>
 * struct nvmlPciInfo_t sizeof=68 alignof=4
 *    busIdLegacy                  off=0 size=16
 * </pre>
 * The same code runs in the unit tests (Debian's header, the committed 13.3 golden) and in the real-GPU kit
 * (the GPU host's header).
 */
public final class LayoutCheck {

    /** Structs whose trailing array grew between headers without a version bump: ours may be larger. */
    public static final Set<String> GROWABLE = Set.of("nvmlGpmMetricsGet_t");

    public record Member(String name, long offset, long size) {
    }

    public record Struct(String name, long size, long align, Map<String, Member> members) {
    }

    private LayoutCheck() {
    }

    /** The Java layouts in the golden text format. */
    public static String render(Map<String, ? extends MemoryLayout> layouts) {
        StringBuilder out = new StringBuilder();
        layouts.forEach((name, layout) -> {
            out.append("struct ").append(name).append(" sizeof=").append(layout.byteSize())
                    .append(" alignof=").append(layout.byteAlignment()).append('\n');
            if (layout instanceof GroupLayout group) {
                renderMembers(out, group, "", 0);
            }
        });
        return out.toString();
    }

    private static void renderMembers(StringBuilder out, GroupLayout group, String prefix, long base) {
        long offset = 0;
        boolean union = group instanceof java.lang.foreign.UnionLayout;
        for (MemoryLayout member : group.memberLayouts()) {
            long at = base + (union ? 0 : offset);
            if (!(member instanceof PaddingLayout) && member.name().isPresent()) {
                String name = prefix + member.name().get();
                out.append(String.format("   %-28s off=%d size=%d%n", name, at, member.byteSize()));
                if (member instanceof GroupLayout nested) {
                    renderMembers(out, nested, name + ".", at);
                }
            }
            offset += member.byteSize();
        }
    }

    /** Parses the golden text format; lines other than struct/member lines are ignored. */
    public static Map<String, Struct> parse(String text) {
        Map<String, Struct> structs = new LinkedHashMap<>();
        Struct current = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("struct ")) {
                String[] parts = line.trim().split("\\s+");
                current = new Struct(parts[1], value(parts[2], "sizeof="), value(parts[3], "alignof="), new LinkedHashMap<>());
                structs.put(current.name(), current);
            } else if (line.startsWith("   ") && current != null) {
                String[] parts = line.trim().split("\\s+");
                current.members().put(parts[0], new Member(parts[0], value(parts[1], "off="), value(parts[2], "size=")));
            } else {
                current = null;
            }
        }
        return structs;
    }

    private static long value(String token, String key) {
        if (!token.startsWith(key)) {
            throw new IllegalArgumentException("expected " + key + " but found '" + token + "'");
        }
        return Long.parseLong(token.substring(key.length()));
    }

    /**
     * Every difference between our layouts and the compiler's, as sentences; empty when they agree. Each
     * member the compiler printed must exist in Java at the same offset and size; Java may name more (union
     * members newer than an old header). Structs the header does not declare are not compared here (see
     * {@link #missingFrom}).
     */
    public static List<String> compare(Map<String, Struct> compiler, Map<String, Struct> ours) {
        List<String> problems = new ArrayList<>();
        for (Struct java : ours.values()) {
            Struct c = compiler.get(java.name());
            if (c == null) {
                continue;
            }
            boolean growable = GROWABLE.contains(java.name());
            if (growable ? java.size() < c.size() : java.size() != c.size()) {
                problems.add(java.name() + ": sizeof is " + java.size() + " in Java, " + c.size() + " in C");
            }
            if (java.align() != c.align()) {
                problems.add(java.name() + ": alignof is " + java.align() + " in Java, " + c.align() + " in C");
            }
            for (Member cm : c.members().values()) {
                Member m = java.members().get(cm.name());
                if (m == null) {
                    problems.add(java.name() + "." + cm.name() + ": member missing (or named differently) in Java");
                    continue;
                }
                if (m.offset() != cm.offset()) {
                    problems.add(java.name() + "." + m.name() + ": offset " + m.offset() + " in Java, " + cm.offset() + " in C");
                }
                boolean sizeOk = growable && m.name().equals("metrics") ? m.size() >= cm.size() : m.size() == cm.size();
                if (!sizeOk) {
                    problems.add(java.name() + "." + m.name() + ": size " + m.size() + " in Java, " + cm.size() + " in C");
                }
            }
        }
        return problems;
    }

    /** Our structs that the given compiler output does not declare (a header older than the struct). */
    public static List<String> missingFrom(Map<String, Struct> compiler, Map<String, Struct> ours) {
        return ours.keySet().stream().filter(name -> !compiler.containsKey(name)).toList();
    }
}
