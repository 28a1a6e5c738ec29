package io.gpuagent.agent.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.PackagedAgent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The packaged agent as if on a 224-CPU DGX/HGX host ({@code -XX:ActiveProcessorCount=224}) with 64 GPUs, under
 * load (64 event-stream readers that never read, then bursts of {@value #BURST} requests in flight at once: lease
 * grants, /health, the inventory, the event history and /metrics): its thread count, sampled every few milliseconds
 * from {@code /proc/<pid>/task}, stays below the unit's {@code TasksMax} (read from systemd/gpu-agent.service)
 * with {@value #RECOVERY_RESERVE} to spare for recovery, which this load does not start.
 * Where a real limit can be set (as root: {@code systemd-run --scope -p TasksMax=} under a running systemd,
 * else a pids cgroup, which is what TasksMax sets), the agent runs under it, and no thread or process may have
 * been refused. With Quarkus' per-CPU defaults the worker pool alone could grow to 1,792 threads here.
 */
class FaultInjectionThreadsIT {

    static final String CASE = "224-CPU host, 64 GPUs, under load";
    static final Path UNIT = Path.of("../systemd/gpu-agent.service");
    static final int GPUS = 64;
    /** Requests in flight at once: more than Quarkus' per-CPU worker pool would leave under TasksMax. */
    static final int BURST = 300;
    static final int STREAM_READERS = 64;
    /**
     * Kept free for what this load does not start: recovery in a fault storm, a thread per running step and at
     * most 8 commands (Commands' bulkhead), each with a process reaper, an output reader and its own threads
     * (the unit's TasksMax comment and systemd/README.md sum them at about 60).
     */
    static final int RECOVERY_RESERVE = 64;
    static final Duration LOAD = Duration.ofSeconds(8);
    static final String SCHEDULER = "threads-scheduler-" + System.nanoTime();

    @Test
    void threadsStayBelowTheUnitsTasksMaxOnA224CpuHost() throws Exception {
        int tasksMax = tasksMax();
        Path dir = Path.of("target", "it-agents").toAbsolutePath();
        Limit limit = Limit.find(tasksMax);
        try (PackagedAgent agent = PackagedAgent.named("fault-threads").scenario("gpus = " + GPUS + "\n")
                .jvmOption("-XX:ActiveProcessorCount=224")
                // Threads under more concurrency than the connection caps admit from one address (300 requests in
                // flight, each answer up to 0.5 MB): the caps and direct memory have ITs of their own, so they are
                // lifted here to load the pools as far as a flood from many addresses could.
                .jvmOption("-XX:MaxDirectMemorySize=256m")
                .property("gpu-agent.http.max-connections-per-address", 100000)
                .property("quarkus.http.limits.max-connections", 100000)
                .launcher(limit.launcher())
                .property("gpu-agent.auth.scheduler-token-file", PackagedAgent.writeCredential(dir.resolve("threads-scheduler"), SCHEDULER))
                .start()) {
            agent.awaitScrape();
            int idle = threads(agent.pid());

            AtomicInteger max = new AtomicInteger(idle);
            AtomicReference<String> namesAtMax = new AtomicReference<>(names(agent.pid()));
            AtomicBoolean running = new AtomicBoolean(true);
            Thread counter = Thread.ofPlatform().daemon().start(() -> {
                while (running.get()) {
                    int n = threads(agent.pid());
                    if (n > max.get()) {
                        max.set(n);
                        namesAtMax.set(names(agent.pid()));
                    }
                    LockSupport.parkNanos(5_000_000);
                }
            });
            List<Socket> readers = new ArrayList<>();
            int requests = 0;
            int failures = 0;
            try {
                for (int i = 0; i < STREAM_READERS; i++) {
                    readers.add(streamReader(agent));
                }
                // Bursts of requests all in flight at once, as many clients would send them: each burst's requests
                // are written on their own connections before any answer is read.
                long end = System.nanoTime() + LOAD.toNanos();
                for (int burst = 0; System.nanoTime() < end; burst++) {
                    List<Socket> inFlight = new ArrayList<>();
                    for (int i = 0; i < BURST; i++) {
                        inFlight.add(send(agent, request(burst, i)));
                    }
                    for (Socket s : inFlight) {
                        requests++;
                        int status = status(s);
                        failures += status < 0 || status >= 500 ? 1 : 0;
                    }
                }
            } finally {
                for (Socket s : readers) {
                    s.close();
                }
                running.set(false);
                counter.join();
            }
            assertTrue(agent.isAlive(), "the agent exited under load; log:\n" + agent.log());
            assertEquals(200, agent.status("/health"), "/health after the load");
            String refused = limit.refused();
            boolean nativeThreadFailed = agent.log().contains("unable to create native thread")
                    || agent.log().contains("Failed to start the native thread");
            boolean met = FaultReport.row(CASE, "-XX:ActiveProcessorCount=224: " + idle + " threads idle, at most "
                    + max.get() + " under " + requests + " requests in bursts of " + BURST + " at once and "
                    + STREAM_READERS + " stalled event-stream readers (" + failures + " 5xx or unanswered); "
                    + limit.describe() + refused + "; at the peak: " + namesAtMax.get(),
                    "+ " + RECOVERY_RESERVE + " for recovery < TasksMax " + tasksMax + " (systemd/gpu-agent.service)",
                    max.get() + RECOVERY_RESERVE < tasksMax && refused.isEmpty() && !nativeThreadFailed);
            assertFalse(nativeThreadFailed, "the agent could not start a thread; log:\n" + agent.log());
            assertTrue(refused.isEmpty(), "the pids limit refused tasks" + refused);
            assertTrue(met, "threads " + max.get() + " leave less than " + RECOVERY_RESERVE + " for recovery under TasksMax "
                    + tasksMax + ": " + namesAtMax.get());
        } finally {
            limit.close();
        }
    }

    /** TasksMax= of the shipped unit. */
    static int tasksMax() throws IOException {
        Matcher m = Pattern.compile("(?m)^TasksMax=(\\d+)\\s*$").matcher(Files.readString(UNIT));
        assertTrue(m.find(), "no TasksMax=<n> in " + UNIT);
        return Integer.parseInt(m.group(1));
    }

    /** Mostly what runs on the worker threads (leases, /health, the API); /metrics runs on the event loops. */
    static String request(int burst, int i) {
        String close = "Host: 127.0.0.1\r\nConnection: close\r\n";
        return switch (i % 8) {
            case 0, 1, 2 -> {
                String body = "{\"jobId\":\"threads-" + burst + "-" + i + "\",\"gpus\":1,\"ttlSeconds\":60}";
                yield "POST /v1/leases HTTP/1.1\r\n" + close + "Authorization: Bearer " + SCHEDULER
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
            }
            case 3 -> "GET /v1/events?limit=1000 HTTP/1.1\r\n" + close + "\r\n";
            case 4, 5 -> "GET /health HTTP/1.1\r\n" + close + "\r\n";
            case 6 -> "GET /v1/inventory HTTP/1.1\r\n" + close + "\r\n";
            default -> "GET /metrics HTTP/1.1\r\n" + close + "\r\n";
        };
    }

    static Socket send(PackagedAgent agent, String request) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", agent.port()), 5000);
        s.setSoTimeout(30_000);
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    /** The answer's status code, read to the end of the connection; -1 when none came. */
    static int status(Socket s) {
        try (s) {
            byte[] all = s.getInputStream().readAllBytes();
            String head = new String(all, 0, Math.min(all.length, 16), StandardCharsets.US_ASCII);
            return head.startsWith("HTTP/1.1 ") && head.length() >= 12 ? Integer.parseInt(head.substring(9, 12)) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    static Socket streamReader(PackagedAgent agent) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", agent.port()), 2000);
        s.getOutputStream().write(("GET /v1/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                + "Last-Event-ID: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    static int threads(long pid) {
        String[] tasks = Path.of("/proc", String.valueOf(pid), "task").toFile().list();
        return tasks == null ? 0 : tasks.length;
    }

    /** "64 gpu-reader-N, 32 executor-thread, ...": the threads' names without their numbers, most first. */
    static String names(long pid) {
        Map<String, Integer> count = new TreeMap<>();
        String[] tasks = Path.of("/proc", String.valueOf(pid), "task").toFile().list();
        for (String t : tasks == null ? new String[0] : tasks) {
            try {
                String comm = Files.readString(Path.of("/proc", String.valueOf(pid), "task", t, "comm")).strip();
                count.merge(comm.replaceAll("[0-9]+$", "N"), 1, Integer::sum);
            } catch (IOException e) {
                // the thread ended while listed
            }
        }
        return count.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
                .map(e -> e.getValue() + " " + e.getKey()).collect(Collectors.joining(", "));
    }

    /** A real task limit around the agent, where one can be set here. */
    sealed interface Limit extends AutoCloseable {
        List<String> launcher();

        String describe();

        /** "" when nothing was refused, else what the kernel counted. */
        String refused();

        @Override
        void close();

        static Limit find(int tasksMax) {
            if (!"root".equals(System.getProperty("user.name"))) {
                return new None("not root: ran without a real task limit, threads counted only");
            }
            if (systemdRuns() && Files.isExecutable(Path.of("/usr/bin/systemd-run"))) {
                return new SystemdScope(tasksMax);
            }
            Path v1 = Path.of("/sys/fs/cgroup/pids");
            Path v2 = Path.of("/sys/fs/cgroup");
            try {
                if (Files.isDirectory(v1) && Files.isWritable(v1)) {
                    return PidsCgroup.create(v1.resolve("gpu-agent-threads-it-" + ProcessHandle.current().pid()), tasksMax);
                }
                if (Files.isRegularFile(v2.resolve("cgroup.controllers"))
                        && Files.readString(v2.resolve("cgroup.subtree_control")).contains("pids")) {
                    return PidsCgroup.create(v2.resolve("gpu-agent-threads-it-" + ProcessHandle.current().pid()), tasksMax);
                }
            } catch (IOException | UncheckedIOException e) {
                return new None("no pids cgroup could be made (" + e.getMessage() + "): threads counted only");
            }
            return new None("no systemd and no writable pids cgroup: threads counted only");
        }

        private static boolean systemdRuns() {
            try {
                Process p = new ProcessBuilder("systemctl", "is-system-running").redirectErrorStream(true).start();
                String state = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                p.waitFor(10, TimeUnit.SECONDS);
                return !state.isEmpty() && !state.equals("offline") && !state.contains("not been booted");
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    record None(String why) implements Limit {
        public List<String> launcher() {
            return List.of();
        }

        public String describe() {
            return why;
        }

        public String refused() {
            return "";
        }

        public void close() {
        }
    }

    /** systemd's own TasksMax, on a transient scope around the agent. */
    record SystemdScope(int tasksMax) implements Limit {
        public List<String> launcher() {
            return List.of("systemd-run", "--scope", "--quiet", "-p", "TasksMax=" + tasksMax, "--");
        }

        public String describe() {
            return "run under systemd-run --scope -p TasksMax=" + tasksMax;
        }

        public String refused() {
            return "";   // a refused thread shows in the agent's log, checked above
        }

        public void close() {
        }
    }

    /** The kernel's pids controller, which TasksMax sets: the agent's shell joins it, then becomes the JVM. */
    record PidsCgroup(Path dir, int tasksMax) implements Limit {
        static PidsCgroup create(Path dir, int tasksMax) throws IOException {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("pids.max"), String.valueOf(tasksMax));
            return new PidsCgroup(dir, tasksMax);
        }

        public List<String> launcher() {
            return List.of("sh", "-c", "echo $$ > " + dir.resolve("cgroup.procs") + " && exec \"$@\"", "sh");
        }

        public String describe() {
            return "run in a pids cgroup with pids.max " + tasksMax + " (no systemd here)";
        }

        public String refused() {
            try {
                Matcher m = Pattern.compile("max (\\d+)").matcher(Files.readString(dir.resolve("pids.events")));
                return m.find() && !m.group(1).equals("0") ? ", " + m.group(1) + " tasks refused by pids.max" : "";
            } catch (IOException e) {
                return ", pids.events unreadable: " + e.getMessage();
            }
        }

        public void close() {
            try {
                Files.deleteIfExists(dir);   // empty once the agent exited
            } catch (IOException e) {
                // A cgroup with a task left in it; the next run uses another name.
            }
        }
    }
}
