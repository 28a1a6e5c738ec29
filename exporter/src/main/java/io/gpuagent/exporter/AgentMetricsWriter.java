package io.gpuagent.exporter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.logging.Logger;

/**
 * Writes the agent's registry (the {@code gpu_agent_*} series) in the Prometheus text format 0.0.4: the same
 * names, labels, types, help and values as Micrometer's Prometheus registry scrapes (AgentMetricsWriterTest
 * compares the two), without the objects that registry builds for every scrape. Names, labels and help are
 * turned into bytes once, when the set of meters changes; a scrape reads each meter's value and writes
 * numbers into a {@link TextBytes} the caller reuses. That scrape allocated 130-260 KB at 8 GPUs and
 * 700 KB at 64, which with a 64 MB heap meant a young collection every hundred scrapes or so.
 *
 * <p>Families are in name order, series in label order. Gauges, counters (also function counters) and
 * timers (a histogram when it has buckets, else a summary, and a {@code _max} gauge) are written; a meter of
 * another type is skipped with one log line naming it (the agent registers none).
 */
public final class AgentMetricsWriter {

    private static final Logger LOG = Logger.getLogger(AgentMetricsWriter.class.getName());
    private static final byte[] BUCKET = "_bucket".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] COUNT = "_count".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SUM = "_sum".getBytes(StandardCharsets.US_ASCII);

    private final NamingConvention convention;
    private final Map<Meter.Id, Meter> meters = new ConcurrentHashMap<>();
    private final Set<Meter.Id> skipped = ConcurrentHashMap.newKeySet();
    private final AtomicLong changes = new AtomicLong();
    private volatile Layout layout = new Layout(-1, new Family[0]);

    /** One family: its {@code # HELP}/{@code # TYPE} lines and its series. */
    private record Family(byte[] header, byte[] name, Series[] series) {
    }

    /**
     * One meter in a family: {@code labels} is {@code {k="v",}} (empty without tags); {@code open} the same
     * without the closing brace (a timer's buckets add {@code le}); {@code le} the bucket bounds as written.
     * {@code reading} reads a gauge, counter or a timer's max, resolved once here so that a scrape neither tests
     * types nor boxes; it is null for a timer's histogram or summary, whose text is kept in {@code timerText}.
     */
    private record Series(Meter meter, DoubleSupplier reading, byte[] labels, byte[] open, byte[][] le,
                          TimerText timerText) {
    }

    /**
     * A timer's lines ({@code _bucket}s, {@code _count}, {@code _sum}) as last written, with the count they
     * were written at: they change only when the timer records (the sampler's, once per sweep), so a scrape
     * copies them instead of taking a histogram snapshot. Threads racing here each write a correct text.
     */
    private static final class TimerText {
        private record Written(long count, byte[] text) {
        }

        private volatile Written last = new Written(-1, new byte[0]);
    }

    private record Layout(long version, Family[] families) {
    }

    public AgentMetricsWriter(MeterRegistry registry) {
        this.convention = registry.config().namingConvention();
        // Kept from the registry's own notifications (made under its lock, after the change), so that a
        // scrape never copies the registry's meter list.
        registry.config().onMeterAdded(m -> {
            meters.put(m.getId(), m);
            changes.incrementAndGet();
        });
        registry.config().onMeterRemoved(m -> {
            meters.remove(m.getId(), m);
            changes.incrementAndGet();
        });
        registry.getMeters().forEach(m -> meters.putIfAbsent(m.getId(), m));
        changes.incrementAndGet();
    }

    /** Appends the exposition text of every meter to {@code out}. Safe from several threads. */
    public void write(TextBytes out) {
        for (Family f : layout()) {
            out.append(f.header);
            for (Series s : f.series) {
                value(out, f.name, s);
            }
        }
    }

    /** The text as a String (tests, tools). */
    public String writeText() {
        TextBytes out = new TextBytes(4096);
        write(out);
        return out.toString();
    }

    private Family[] layout() {
        long version = changes.get();
        Layout l = layout;
        if (l.version != version) {
            l = new Layout(version, families());
            layout = l;
        }
        return l.families;
    }

    private static void value(TextBytes out, byte[] name, Series s) {
        if (s.reading != null) {
            line(out, name, null, s.labels, s.reading.getAsDouble());
            return;
        }
        Timer t = (Timer) s.meter;
        long count = t.count();
        TimerText.Written last = s.timerText.last;
        if (last.count != count) {
            int from = out.length();
            if (s.le.length > 0) {
                CountAtBucket[] buckets = t.takeSnapshot().histogramCounts();
                for (int i = 0; i < s.le.length; i++) {
                    bucket(out, name, s, s.le[i], i < buckets.length ? buckets[i].count() : count);
                }
            }
            line(out, name, COUNT, s.labels, count);
            line(out, name, SUM, s.labels, t.totalTime(TimeUnit.SECONDS));
            s.timerText.last = new TimerText.Written(count, out.copy(from));
            return;
        }
        out.append(last.text);
    }

    private static void line(TextBytes out, byte[] name, byte[] suffix, byte[] labels, double value) {
        out.append(name);
        if (suffix != null) {
            out.append(suffix);
        }
        out.append(labels);
        out.append((byte) ' ');
        out.appendDouble(value);
        out.append((byte) '\n');
    }

    private static void bucket(TextBytes out, byte[] name, Series s, byte[] le, double count) {
        out.append(name);
        out.append(BUCKET);
        out.append(s.open);
        out.append(le);
        out.append((byte) '"');
        out.append((byte) ',');
        out.append((byte) '}');
        out.append((byte) ' ');
        out.appendDouble(count);
        out.append((byte) '\n');
    }

    /** The families of the meters now registered, built when that set changed. */
    private Family[] families() {
        record Member(String labels, Series series) {
        }
        Map<String, List<Member>> byName = new TreeMap<>();
        Map<String, String> headers = new TreeMap<>();
        for (Meter m : meters.values()) {
            Meter.Id id = m.getId();
            String name = id.getConventionName(convention);
            CountAtBucket[] buckets = m instanceof Timer t ? t.takeSnapshot().histogramCounts() : new CountAtBucket[0];
            String type = switch (m) {
                case Gauge g -> "gauge";
                case Counter c -> "counter";
                case FunctionCounter c -> "counter";
                case Timer t -> buckets.length > 0 ? "histogram" : "summary";
                default -> null;
            };
            if (type == null) {
                if (skipped.add(id)) {
                    LOG.warning(() -> "meter " + id + " (" + m.getClass().getSimpleName() + ") is not written to /metrics: "
                            + "its type is not supported by AgentMetricsWriter; register a gauge, counter or timer instead");
                }
                continue;
            }
            StringBuilder sb = new StringBuilder(128);
            for (Tag t : id.getConventionTags(convention)) {
                GpuMetricsWriter.label(sb, t.getKey(), t.getValue());   // ,key="value"
            }
            String open = "{" + (sb.isEmpty() ? "" : sb.substring(1) + ",");
            String labels = sb.isEmpty() ? "" : open + "}";
            byte[][] le = new byte[0][];
            if (m instanceof Timer timer) {
                if (buckets.length > 0) {
                    le = new byte[buckets.length + 1][];
                    for (int i = 0; i < buckets.length; i++) {
                        le[i] = ascii("le=\"" + valueText(buckets[i].bucket(TimeUnit.SECONDS)));
                    }
                    le[buckets.length] = ascii("le=\"+Inf");
                }
                String maxName = name + "_max";
                headers.putIfAbsent(maxName, header(maxName, id.getDescription(), "gauge"));
                byName.computeIfAbsent(maxName, k -> new ArrayList<>()).add(new Member(labels, new Series(m,
                        () -> timer.max(TimeUnit.SECONDS), utf8(labels), utf8(open), new byte[0][], null)));
            }
            DoubleSupplier reading = switch (m) {
                case Gauge g -> g::value;
                case Counter c -> c::count;
                case FunctionCounter c -> c::count;
                default -> null;   // a timer: its text is written from TimerText
            };
            headers.putIfAbsent(name, header(name, id.getDescription(), type));
            byName.computeIfAbsent(name, k -> new ArrayList<>()).add(new Member(labels,
                    new Series(m, reading, utf8(labels), utf8(open), le, reading == null ? new TimerText() : null)));
        }
        List<Family> families = new ArrayList<>(byName.size());
        byName.forEach((name, members) -> {
            members.sort(Comparator.comparing(Member::labels));
            families.add(new Family(utf8(headers.get(name)), utf8(name),
                    members.stream().map(Member::series).toArray(Series[]::new)));
        });
        return families.toArray(Family[]::new);
    }

    private static String header(String name, String description, String type) {
        StringBuilder sb = new StringBuilder(256).append("# HELP ").append(name).append(' ');
        GpuMetricsWriter.escapeHelp(sb, description == null ? " " : description);
        return sb.append("\n# TYPE ").append(name).append(' ').append(type).append('\n').toString();
    }

    private static String valueText(double v) {
        TextBytes t = new TextBytes(24);
        t.appendDouble(v);
        return t.toString();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
