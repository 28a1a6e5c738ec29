package io.gpuagent.exporter;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * dcgm-exporter's counters CSV ({@code gpu-agent.counters-file}): which GPU metrics to export, so users keep
 * the file they have. Format, one entry per line:
 * <pre>
 * # a comment (also: blank lines)
 * DCGM_FI_DEV_GPU_TEMP,    gauge,   GPU temperature (in C).
 * DCGM_FI_DEV_PCIE_REPLAY_COUNTER, counter, Total number of PCIe retries.
 * DCGM_FI_DRIVER_VERSION,  label,   Driver Version
 * </pre>
 * Field name, Prometheus type ({@code gauge}, {@code counter}, or {@code label} for a field rendered as a
 * label), help text (the rest of the line; may contain commas; surrounding double quotes are removed).
 * The name is exported exactly as written, with the line's type and help, as dcgm-exporter does.
 *
 * <p>Errors (a {@link CountersFileException} naming the file and line): a malformed line, an unknown type,
 * {@code histogram}/{@code summary}, a type that does not fit the field (label vs value), a duplicate, and
 * a name that is not a DCGM field at all (with the nearest known name when one is close). A DCGM field the
 * agent cannot read through NVML (DCGM-only: health, diagnostics, NVSwitch, vGPU, ...), and a family
 * dcgm-exporter computes that the agent does not, is skipped, and all of them are reported in ONE warning.
 *
 * <p>Names of both generations may stand in one file: the older one in its unit, DCGM 4.7's base-unit one in
 * its own ({@code DCGM_FI_DEV_SM_CLOCK} in MHz next to {@code DCGM_FI_DEV_SM_CLOCK_HERTZ} in Hz), which lets
 * dashboards move over while both are served. The label row of field 1 decides the driver-version label's
 * name: {@code DCGM_FI_DRIVER_VERSION} or {@code DCGM_FI_SYSTEM_DRIVER_VERSION} (both rows: both labels); a
 * file without one gets {@code DCGM_FI_DRIVER_VERSION}, as before.
 */
public final class CountersFile {
    private static final System.Logger LOG = System.getLogger(CountersFile.class.getName());
    /** Bundled: the default set of docs/metrics.md. */
    public static final String DEFAULT_RESOURCE = "default-counters.csv";
    /** Bundled: the default set and every opt-in metric. */
    public static final String ALL_RESOURCE = "all-counters.csv";

    private final String source;
    private final List<MetricDef> metrics;
    private final List<String> skipped;

    private CountersFile(String source, List<MetricDef> metrics, List<String> skipped) {
        this.source = source;
        this.metrics = List.copyOf(metrics);
        this.skipped = List.copyOf(skipped);
    }

    /** Parses {@code file}; logs one warning listing the fields skipped (DCGM-only, dcgm-exporter's own). */
    public static CountersFile parse(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CountersFileException(file.toString(), 0, "cannot read the counters file: " + e);
        }
        return parse(file.toString(), lines);
    }

    /** Parses {@code lines}; {@code source} names them in messages. */
    public static CountersFile parse(String source, List<String> lines) {
        return parse(source, lines, false);
    }

    /**
     * Parses {@code file}; with {@code dcgm} (DCGM on, docs/dcgm.md) a DCGM field NVML cannot give is served from
     * DCGM ({@link MetricDef#isDcgmField()}) instead of skipped; DCGM-only label fields are still skipped.
     */
    public static CountersFile parse(Path file, boolean dcgm) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CountersFileException(file.toString(), 0, "cannot read the counters file: " + e);
        }
        return parse(file.toString(), lines, dcgm);
    }

    /** Parses {@code lines}, serving DCGM-only fields from DCGM when {@code dcgm}. */
    public static CountersFile parse(String source, List<String> lines, boolean dcgm) {
        List<MetricDef> metrics = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = split(line);
            if (f == null) {
                throw new CountersFileException(source, lineNo,
                        "malformed line, expected 'DCGM field, prometheus type, help text': " + line);
            }
            String name = f[0];
            MetricType type = type(source, lineNo, name, f[1]);
            if (!seen.add(name)) {
                throw new CountersFileException(source, lineNo, name + " is listed twice");
            }
            Optional<MetricDef> def = MetricCatalog.byName(name);
            if (def.isEmpty()) {
                if (dcgm && name.equals(MetricDef.GPU_HEALTH_STATUS) && type != MetricType.LABEL) {
                    metrics.add(new MetricDef(name, type, f[2], "result", null, false, MetricDef.GPU_HEALTH_STATUS_ID,
                            UnitScale.NONE));
                    continue;
                }
                if (dcgm && type != MetricType.LABEL && MetricCatalog.isDcgmField(name)) {
                    metrics.add(MetricDef.dcgmField(name, type, f[2], MetricCatalog.dcgmFieldId(name)));
                    continue;
                }
                if (MetricCatalog.isKnownNotSupplied(name)) {
                    skipped.add(name + " (line " + lineNo + ")");
                    continue;
                }
                throw new CountersFileException(source, lineNo, "unknown field " + name
                        + ": not a DCGM field name (DCGM_FI_...) or dcgm-exporter family (DCGM_EXP_...) that gpu-agent "
                        + "knows" + closest(name).map(c -> "; did you mean " + c + "?").orElse("")
                        + " See docs/metrics.md for the list");
            }
            MetricDef m = def.get();
            if ((type == MetricType.LABEL) != (m.type() == MetricType.LABEL)) {
                throw new CountersFileException(source, lineNo, name + " must be "
                        + (m.type() == MetricType.LABEL ? "'label'" : "'gauge' or 'counter'") + ", not '" + f[1] + "'");
            }
            metrics.add(m.as(name, type, f[2]));
        }
        if (!skipped.isEmpty()) {
            LOG.log(Level.WARNING, source + ": skipping " + skipped.size()
                    + " field(s) gpu-agent does not serve (DCGM-only, or computed by dcgm-exporter itself): "
                    + String.join(", ", skipped));
        }
        return new CountersFile(source, metrics, skipped);
    }

    /** The bundled legacy default set ({@code default-counters.csv}). */
    public static CountersFile defaults() {
        return resource(DEFAULT_RESOURCE);
    }

    /** A bundled default set ({@code gpu-agent.metrics.default-set}). */
    public static CountersFile bundled(DefaultSet set) {
        return resource(set.resource());
    }

    /** A bundled set; with {@code dcgm}, its DCGM-only fields are served from DCGM. */
    public static CountersFile bundled(DefaultSet set, boolean dcgm) {
        return parse("classpath:" + set.resource(), resourceText(set.resource()).lines().toList(), dcgm);
    }

    /** The bundled full set ({@code all-counters.csv}). */
    public static CountersFile all() {
        return resource(ALL_RESOURCE);
    }

    /** The text of a bundled file ({@link #DEFAULT_RESOURCE} or {@link #ALL_RESOURCE}), e.g. to copy and edit. */
    public static String resourceText(String name) {
        try (InputStream in = CountersFile.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalArgumentException("no bundled counters file " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static CountersFile resource(String name) {
        return parse("classpath:" + name, resourceText(name).lines().toList());
    }

    /** Where the selection came from (a path, or {@code classpath:...}). */
    public String source() {
        return source;
    }

    /** The selected metrics, in file order, with the file's names, types and help texts. */
    public List<MetricDef> metrics() {
        return metrics;
    }

    /** Fields skipped (DCGM-only, or dcgm-exporter's own families the agent does not compute), as {@code NAME (line N)}. */
    public List<String> skipped() {
        return skipped;
    }

    /**
     * The known name nearest to a misspelt one (at most 3 edits, and fewer than a third of its length), so that
     * {@code DCGM_FI_DEV_SM_CLOCK_HZ} is answered with {@code DCGM_FI_DEV_SM_CLOCK}. Only on the error path.
     */
    static Optional<String> closest(String name) {
        int limit = Math.min(3, name.length() / 3);
        String best = null;
        int bestDistance = limit + 1;
        for (String candidate : MetricCatalog.knownNames()) {   // sorted: a tie goes to the first name
            if (Math.abs(candidate.length() - name.length()) <= limit) {
                int d = editDistance(name, candidate, limit);
                if (d < bestDistance) {
                    best = candidate;
                    bestDistance = d;
                }
            }
        }
        return Optional.ofNullable(best);
    }

    /** Levenshtein distance of {@code a} and {@code b}, or {@code limit + 1} once it must exceed {@code limit}. */
    private static int editDistance(String a, String b, int limit) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            int rowMin = current[0];
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                rowMin = Math.min(rowMin, current[j]);
            }
            if (rowMin > limit) {
                return limit + 1;
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    private static MetricType type(String source, int lineNo, String name, String text) {
        String t = text.toLowerCase(Locale.ROOT);
        return switch (t) {
            case "gauge" -> MetricType.GAUGE;
            case "counter" -> MetricType.COUNTER;
            case "label" -> MetricType.LABEL;
            case "histogram", "summary" -> throw new CountersFileException(source, lineNo,
                    "type '" + text + "' of " + name + " is not supported (gauge, counter or label)");
            default -> throw new CountersFileException(source, lineNo,
                    "unknown type '" + text + "' for " + name + " (gauge, counter or label)");
        };
    }

    /** name, type, help (the rest, unquoted); null when the line does not have that shape. */
    private static String[] split(String line) {
        int c1 = line.indexOf(',');
        int c2 = c1 < 0 ? -1 : line.indexOf(',', c1 + 1);
        if (c2 < 0) {
            return null;
        }
        String name = line.substring(0, c1).strip();
        String type = line.substring(c1 + 1, c2).strip();
        String help = line.substring(c2 + 1).strip();
        if (help.length() >= 2 && help.startsWith("\"") && help.endsWith("\"")) {
            help = help.substring(1, help.length() - 1).replace("\"\"", "\"");
        }
        if (name.isEmpty() || type.isEmpty() || !name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            return null;
        }
        return new String[] {name, type, help};
    }
}
