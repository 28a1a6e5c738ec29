package io.gpuagent.agent.slurm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A one-node Slurm cluster of Debian's slurm-wlm (22.05) and munge, started by the test in its own directory
 * (its own munged, key and socket; free ports), so it runs beside anything else on the machine: slurmctld and
 * slurmd with the node's GPUs as {@link NodeGres} says ({@code Gres=gpu:8} from the shipped examples, or MIG
 * devices, {@link SlurmMigNode}) on character device nodes (slurmd rejects regular files), no cgroups, and the
 * shipped scripts as HealthCheckProgram, Prolog, Epilog and TaskProlog.
 *
 * <p>slurmd starts those scripts with no settings of ours in their environment, so each is a two-line wrapper
 * that names the settings file ({@code GPU_AGENT_SLURM_ENV}), as a site with the file elsewhere than
 * /etc/gpu-agent/slurm.env would do; the health check's wrapper also notes each run's exit status for the test.
 * slurmd logs what a failing script printed ({@code error: prolog failed: rc:1 output:...}) in log/slurmd.log.
 */
final class RealSlurm implements AutoCloseable {

    /** Not this host's name: the scripts must use the name slurmd gives them (SLURMD_NODENAME). */
    static final String NODE = "gpuagent-test";
    static final int HEALTH_CHECK_SECONDS = 2;
    /** The node's CPUs (slurm.conf; fake_gpus.conf lines name them too). */
    static final int CPUS = 8;

    private static final List<String> PROGRAMS = List.of("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd",
            "/usr/bin/scontrol", "/usr/bin/sbatch", "/usr/bin/srun", "/usr/bin/scancel");

    /** What accounting in slurmdbd needs: with them the cluster stores jobs in a MariaDB of its own ({@link #accounting}). */
    private static final List<String> ACCOUNTING_PROGRAMS = List.of("/usr/sbin/slurmdbd", "/usr/sbin/mariadbd",
            "/usr/bin/mariadb-install-db", "/usr/bin/mariadb", "/usr/bin/sacctmgr", "/usr/bin/sacct");

    /**
     * Whether this cluster keeps accounting in slurmdbd (on a MariaDB started for it), so that {@code sacct} and
     * {@code sacctmgr} work: where slurmdbd and mariadb-server are installed (apt-get install slurmdbd
     * mariadb-server); otherwise {@code accounting_storage/none}.
     */
    final boolean accounting = ACCOUNTING_PROGRAMS.stream().allMatch(p -> Files.isExecutable(Path.of(p)));

    final Path dir;
    final Path conf;
    final Path settings;
    final Path healthRuns;
    /** The device nodes slurmd checks ({@code nvidiaN}, {@code nvidia-caps/nvidia-capN}): a short path, see {@link NodeGres}. */
    final Path dev;
    /** GPU_AGENT_SLURM_JOB_ENV: the prolog's notes for the task prolog. */
    final Path jobEnv;
    private final Path mungeDir;
    private final List<Process> daemons = new ArrayList<>();

    /** Skips the test where Slurm is not installed (or we are not root), unless {@code -Dslurm.required=true} (CI). */
    static void require() {
        List<String> missing = PROGRAMS.stream().filter(p -> !Files.isExecutable(Path.of(p))).toList();
        String why = !missing.isEmpty() ? missing + " not installed (apt-get install slurm-wlm munge)"
                : !"root".equals(System.getProperty("user.name")) ? "slurmd must run as root to run its Prolog" : null;
        if (why == null) {
            return;
        }
        if (Boolean.getBoolean("slurm.required")) {
            throw new AssertionError("the real-Slurm test cannot run: " + why);
        }
        assumeTrue(false, why);
    }

    /**
     * What slurmd is told about the node's GPUs: slurm.conf's {@code Gres=}, gres.conf, and fake_gpus.conf (empty:
     * none), with the character devices they name ({@code mknod}). fake_gpus.conf is Slurm's own stand-in for
     * hardware detection (gres_gpu.c reads it, when it exists next to slurm.conf, in place of what the gpu plugin
     * detects): one line per device, {@code type|cpus|cpu range|links|files|unique id|flags}, at most 255
     * characters, hence the short {@link #dev}.
     */
    record NodeGres(String gres, String gresConf, String fakeGpusConf, List<CharDevice> devices) {
    }

    /** A character device node under {@link #dev}. */
    record CharDevice(String path, int major, int minor) {
    }

    /** Starts munged, slurmctld and slurmd with 8 whole GPUs as the shipped examples configure them. */
    static RealSlurm start(Path scripts) throws Exception {
        return start(scripts, dev -> wholeGpus(scripts, dev));
    }

    /**
     * Starts munged, slurmctld and slurmd; returns once the node is up. {@code scripts}: agent/slurm;
     * {@code gres}: the node's GPUs, given the directory of device nodes.
     */
    static RealSlurm start(Path scripts, Function<Path, NodeGres> gres) throws Exception {
        return new RealSlurm(Files.createTempDirectory(Path.of("target"), "real-slurm").toAbsolutePath(), scripts, gres);
    }

    /** agent/slurm/gres.conf.example for this node and its device nodes: {@code Gres=gpu:8} on /dev/nvidia[0-7]. */
    private static NodeGres wholeGpus(Path scripts, Path dev) {
        try {
            String gresConf = Files.readString(scripts.resolve("gres.conf.example"))
                    .replace("NodeName=gpu[001-016]", "NodeName=" + NODE).replace("File=/dev/", "File=" + dev + "/");
            List<CharDevice> devices = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                devices.add(new CharDevice("nvidia" + i, 195, i));
            }
            return new NodeGres("gpu:8", gresConf, "", devices);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private RealSlurm(Path dir, Path scripts, Function<Path, NodeGres> gresOf) throws Exception {
        this.dir = dir;
        this.conf = dir.resolve("slurm.conf");
        this.settings = dir.resolve("slurm.env");
        this.healthRuns = dir.resolve("log/healthcheck.runs");
        this.jobEnv = dir.resolve("job-env");
        // A unix socket path must stay under 108 bytes, and a fake_gpus.conf line under 256: target/ can be deep.
        this.mungeDir = Files.createTempDirectory("gpu-agent-munge");
        this.dev = Files.createTempDirectory("gad");
        for (String d : List.of("state", "spool", "log", "bin", "leases")) {
            Files.createDirectories(dir.resolve(d));
        }
        NodeGres gres = gresOf.apply(dev);
        for (CharDevice d : gres.devices()) {
            Path node = dev.resolve(d.path());
            Files.createDirectories(node.getParent());
            exec(Duration.ofSeconds(10), "mknod", node.toString(), "c", String.valueOf(d.major()), String.valueOf(d.minor()));
        }
        writeWrappers(scripts);
        int ctldPort = freePort();
        int slurmdPort = freePort();
        int dbdPort = freePort();
        String accountingConf = accounting
                ? "AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=localhost\nAccountingStoragePort="
                        + dbdPort + "\n"
                        // the munged the clients use to reach slurmdbd (the default socket is not ours)
                        + "AccountingStoragePass=" + mungeDir.resolve("socket") + "\n"
                : "AccountingStorageType=accounting_storage/none\n";
        Files.writeString(conf, """
                ClusterName=gpuagenttest
                SlurmctldHost=localhost(127.0.0.1)
                SlurmctldPort=%2$d
                SlurmdPort=%3$d
                SlurmUser=root
                SlurmdUser=root
                AuthType=auth/munge
                CredType=cred/munge
                AuthInfo=socket=%4$s
                StateSaveLocation=%1$s/state
                SlurmdSpoolDir=%1$s/spool
                SlurmctldPidFile=%1$s/slurmctld.pid
                SlurmdPidFile=%1$s/slurmd.pid
                SlurmctldLogFile=%1$s/log/slurmctld.log
                SlurmdLogFile=%1$s/log/slurmd.log
                SlurmdDebug=debug
                # No cgroups: the test runs in containers and beside other work.
                ProctrackType=proctrack/linuxproc
                TaskPlugin=task/none
                JobAcctGatherType=jobacct_gather/none
                %8$sJobCompType=jobcomp/none
                MpiDefault=none
                SelectType=select/cons_tres
                SelectTypeParameters=CR_Core
                # Trust the CPUs below whatever this machine has.
                SlurmdParameters=config_overrides
                ReturnToService=2
                KillWait=5
                NodeName=%5$s NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=%7$d RealMemory=1000 Gres=%6$s State=UNKNOWN
                PartitionName=gpu Nodes=%5$s Default=YES MaxTime=INFINITE State=UP
                # From agent/slurm/slurm.conf.example (scripts in bin/, a shorter interval):
                """.formatted(dir, ctldPort, slurmdPort, mungeDir.resolve("socket"), NODE, gres.gres(), CPUS, accountingConf) + shipped(scripts));
        Files.writeString(dir.resolve("gres.conf"), gres.gresConf());
        if (!gres.fakeGpusConf().isEmpty()) {
            Files.writeString(dir.resolve("fake_gpus.conf"), gres.fakeGpusConf());
        }

        Path key = mungeDir.resolve("key");
        byte[] bytes = new byte[1024];
        new java.security.SecureRandom().nextBytes(bytes);
        Files.write(key, bytes);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--------"));
        daemon(dir.resolve("log/munged.out"), "/usr/sbin/munged", "--foreground", "--force",
                "--socket=" + mungeDir.resolve("socket"), "--key-file=" + key, "--pid-file=" + mungeDir.resolve("pid"),
                "--log-file=" + dir.resolve("log/munged.log"), "--seed-file=" + mungeDir.resolve("seed"));
        try {
            waitFor(Duration.ofSeconds(10), () -> Files.exists(mungeDir.resolve("socket")), "munged's socket");
            if (accounting) {
                startAccounting(dbdPort);
            }
            daemon(dir.resolve("log/slurmctld.out"), "/usr/sbin/slurmctld", "-D", "-i", "-f", conf.toString());
            waitFor(Duration.ofSeconds(30), () -> scontrolQuiet("ping").contains("UP"), "slurmctld answering");
            daemon(dir.resolve("log/slurmd.out"), "/usr/sbin/slurmd", "-D", "-N", NODE, "-f", conf.toString());
            waitFor(Duration.ofSeconds(60), () -> {
                String state = nodeState();
                return state.startsWith("IDLE") && !state.contains("NOT_RESPONDING");
    }, "node " + NODE + " IDLE");
        } catch (Exception | AssertionError e) {
            stopDaemons();   // close() is never called on a cluster that did not start
            throw e;
        }
    }

    /**
     * A MariaDB of this cluster's own (its data in {@code dir/db}, on a free port of 127.0.0.1), slurmdbd on it, and
     * the cluster registered (sacctmgr), before slurmctld starts.
     */
    private void startAccounting(int dbdPort) throws Exception {
        Path db = dir.resolve("db");
        Path socket = dir.resolve("db.sock");
        int dbPort = freePort();
        exec(Duration.ofSeconds(120), "/usr/bin/mariadb-install-db", "--no-defaults", "--datadir=" + db, "--user=root",
                "--auth-root-authentication-method=normal", "--skip-test-db");
        daemon(dir.resolve("log/mariadbd.out"), "/usr/sbin/mariadbd", "--no-defaults", "--datadir=" + db, "--user=root",
                "--socket=" + socket, "--port=" + dbPort, "--bind-address=127.0.0.1", "--pid-file=" + dir.resolve("db.pid"),
                "--log-error=" + dir.resolve("log/mariadbd.log"), "--innodb-buffer-pool-size=16M");
        waitFor(Duration.ofSeconds(60), () -> run(Duration.ofSeconds(10), "/usr/bin/mariadb", "--no-defaults",
                "--socket=" + socket, "-uroot", "-e", "SELECT 1").exit() == 0, "MariaDB answering");
        exec(Duration.ofSeconds(30), "/usr/bin/mariadb", "--no-defaults", "--socket=" + socket, "-uroot", "-e",
                "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm-test'; "
                        + "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';");
        Path dbdConf = dir.resolve("slurmdbd.conf");   // beside slurm.conf: slurmdbd looks for it there
        Files.writeString(dbdConf, """
                AuthType=auth/munge
                AuthInfo=socket=%s
                DbdHost=localhost
                DbdAddr=127.0.0.1
                DbdPort=%d
                SlurmUser=root
                PidFile=%s/slurmdbd.pid
                LogFile=%s/log/slurmdbd.log
                StorageType=accounting_storage/mysql
                StorageHost=127.0.0.1
                StoragePort=%d
                StorageUser=slurm
                StoragePass=slurm-test
                StorageLoc=slurm_acct_db
                """.formatted(mungeDir.resolve("socket"), dbdPort, dir, dir, dbPort));
        Files.setPosixFilePermissions(dbdConf, PosixFilePermissions.fromString("rw-------"));
        daemon(dir.resolve("log/slurmdbd.out"), "/usr/sbin/slurmdbd", "-D");
        waitFor(Duration.ofSeconds(60), () -> run(Duration.ofSeconds(20), "/usr/bin/sacctmgr", "-i", "add", "cluster",
                "gpuagenttest").exit() == 0 || run(Duration.ofSeconds(20), "/usr/bin/sacctmgr", "-n", "-P", "list",
                "cluster").out().contains("gpuagenttest"), "slurmdbd registering the cluster");
    }

    /** The shipped slurm.conf excerpt's settings for gpu-agent (not its example nodes), pointed at bin/. */
    private String shipped(Path scripts) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String line : Files.readAllLines(scripts.resolve("slurm.conf.example"))) {
            if (line.matches("(GresTypes|HealthCheck\\w+|Prolog|Epilog|TaskProlog)=.*")) {
                out.append(line.startsWith("HealthCheckInterval=") ? "HealthCheckInterval=" + HEALTH_CHECK_SECONDS
                        : line.replace("/usr/lib/gpu-agent/slurm/", dir + "/bin/")).append('\n');
            }
        }
        if (out.toString().lines().count() != 7) {
            throw new AssertionError("slurm.conf.example lost a gpu-agent setting:\n" + out);
        }
        return out.toString();
    }

    /** Where the agent is and where Slurm is, as an operator writes /etc/gpu-agent/slurm.env. */
    void settings(int agentPort, Path tokenFile) throws IOException {
        Files.writeString(settings, """
                # gpu-agent's Slurm scripts (written by RealSlurm; read, not run)
                GPU_AGENT_URL=http://127.0.0.1:%d
                GPU_AGENT_USER=%s
                GPU_AGENT_TOKEN_FILE="%s"
                GPU_AGENT_SLURM_STATE=%s
                GPU_AGENT_SLURM_JOB_ENV=%s
                GPU_AGENT_TIMEOUT=5
                SLURM_CONF=%s
                """.formatted(agentPort, System.getProperty("user.name"), tokenFile.toAbsolutePath(), dir.resolve("leases"),
                jobEnv, conf));
        // The scripts refuse a settings file anyone but its owner may write.
        Files.setPosixFilePermissions(settings, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private void writeWrappers(Path scripts) throws IOException {
        String env = "export GPU_AGENT_SLURM_ENV=" + settings + ";";
        Path check = dir.resolve("bin/gpu-agent-healthcheck");
        Files.writeString(check, """
                #!/bin/sh
                %s %s
                rc=$?
                echo $rc >>%s
                exit $rc
                """.formatted(env, scripts.resolve("gpu-agent-healthcheck"), healthRuns));
        for (String s : List.of("gpu-agent-prolog", "gpu-agent-epilog", "gpu-agent-taskprolog")) {
            Files.writeString(dir.resolve("bin").resolve(s), "#!/bin/sh\n%s exec %s\n".formatted(env, scripts.resolve(s)));
        }
        try (Stream<Path> bin = Files.list(dir.resolve("bin"))) {
            for (Path p : bin.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
    }

    /** Runs a Slurm client command against this cluster; its output (stdout and stderr). Fails unless it exits 0. */
    String client(String... command) {
        Result r = run(Duration.ofSeconds(60), command);
        if (r.exit != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + r.exit + ": " + r.out);
        }
        return r.out;
    }

    record Result(int exit, String out) {
    }

    /** Runs a Slurm client command against this cluster (SLURM_CONF), whatever its exit status. */
    Result run(Duration timeout, String... command) {
        try {
            Path out = Files.createTempFile(dir, "client", ".out");
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().put("SLURM_CONF", conf.toString());
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish in " + timeout);
            }
            String text = Files.readString(out);
            Files.delete(out);
            return new Result(p.exitValue(), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String scontrolQuiet(String... args) {
        List<String> command = new ArrayList<>(List.of("/usr/bin/scontrol"));
        command.addAll(List.of(args));
        return run(Duration.ofSeconds(30), command.toArray(String[]::new)).out;
    }

    /** The node's state as scontrol shows it (IDLE, IDLE+DRAIN, MIXED, ...). */
    String nodeState() {
        var m = java.util.regex.Pattern.compile("\\sState=(\\S+)").matcher(scontrolQuiet("show", "node", NODE));
        return m.find() ? m.group(1) : "";
    }

    /** The node's reason without Slurm's " [user@time]", or "" when it has none. */
    String nodeReason() {
        String shown = scontrolQuiet("show", "node", NODE);
        return shown.lines().map(String::strip).filter(l -> l.startsWith("Reason="))
                .map(l -> l.substring("Reason=".length()).replaceFirst(" \\[[^]]*]$", "")).findFirst().orElse("");
    }

    /** The GPU indices Slurm gave {@code jobId} ({@code GRES=gpu:3(IDX:0-2)} in {@code scontrol -d show job}). */
    List<Integer> jobGpus(String jobId) {
        String shown = client("/usr/bin/scontrol", "-d", "show", "job", jobId);
        var m = java.util.regex.Pattern.compile("IDX:([0-9,-]+)\\)").matcher(shown);
        if (!m.find()) {
            throw new AssertionError("no GPU indices in scontrol show job " + jobId + ":\n" + shown);
        }
        List<Integer> out = new ArrayList<>();
        for (String part : m.group(1).split(",")) {
            String[] range = part.split("-");
            int from = Integer.parseInt(range[0]);
            int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
            for (int i = from; i <= to; i++) {
                out.add(i);
            }
        }
        return out;
    }

    /** The exit statuses of the health check runs slurmd made so far, oldest first. */
    List<Integer> healthCheckRuns() {
        try {
            return Files.exists(healthRuns)
                    ? Files.readAllLines(healthRuns).stream().filter(l -> !l.isBlank()).map(l -> Integer.valueOf(l.strip())).toList()
                    : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for a health check run, started after this call, to end with {@code exit}. */
    void awaitHealthCheck(int exit, Duration timeout) {
        int before = healthCheckRuns().size();
        // A run under way now may have asked the agent before the change the caller waits for: skip it.
        waitFor(timeout, () -> {
            List<Integer> runs = healthCheckRuns();
            return runs.size() > before + 1 && runs.subList(before + 1, runs.size()).contains(exit);
        }, "a health check run that exits " + exit + " (runs so far: " + healthCheckRuns() + ")");
    }

    String slurmdLog() {
        try {
            return Files.readString(dir.resolve("log/slurmd.log"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Cancels every job of this cluster and waits for their epilogs. */
    void cancelAll() {
        run(Duration.ofSeconds(30), "/usr/bin/scancel", "--full", "--partition=gpu");
        waitFor(Duration.ofSeconds(60), () -> client("/usr/bin/squeue", "-h", "-o", "%i").isBlank(), "no jobs left");
    }

    /** Puts the node back in service, whatever drained it. */
    void resume() {
        if (nodeState().contains("DRAIN")) {
            client("/usr/bin/scontrol", "update", "NodeName=" + NODE, "State=RESUME");
        }
    }

    @Override
    public void close() throws Exception {
        try {
            cancelAll();
        } catch (AssertionError | RuntimeException e) {
            // stopping the daemons matters more; their logs stay in dir
        }
        stopDaemons();
        for (Path d : List.of(mungeDir, dev)) {
            try (Stream<Path> files = Files.walk(d)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** slurmd first (it ends its jobs' steps), munged last (the others need it to say goodbye). */
    private void stopDaemons() throws InterruptedException {
        for (Process p : daemons.reversed()) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private void daemon(Path out, String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("SLURM_CONF", conf.toString());
        daemons.add(pb.start());
    }

    private void exec(Duration timeout, String... command) {
        Result r = run(timeout, command);
        if (r.exit != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + r.exit + ": " + r.out);
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    void waitFor(Duration timeout, Check check, String what) {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (Exception | AssertionError e) {
                // not yet
            }
            for (Process p : daemons) {
                if (!p.isAlive()) {
                    throw new AssertionError("a Slurm daemon exited (" + p.info().command().orElse("?") + ", status "
                            + p.exitValue() + ") while waiting for " + what + "; logs in " + dir.resolve("log"));
                }
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("no " + what + " within " + timeout + "; logs in " + dir.resolve("log"));
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
