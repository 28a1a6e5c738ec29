package io.gpuagent.agent.recovery;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The agent's side of gpu-agent-privileged (systemd/gpu-agent-privileged), the root-owned program that runs
 * the steps the NVIDIA driver allows only with CAP_SYS_ADMIN, so that the network-facing agent never holds
 * it. One connection per request: one line out ({@code reset <uuid>}, {@code reset-clocks <uuid>},
 * {@code set-power-limit <uuid> <watts>}), one line back ({@code <ok|failed|refused> <code> <detail>}), all of
 * it within the caller's deadline, connecting included. At most {@link #AT_ONCE} requests are open at a time,
 * below the socket unit's {@code MaxConnections}, so systemd never drops one of ours.
 */
final class PrivilegedSocket {

    /** Requests open at once; gpu-agent-privileged.socket allows 8 connections. */
    static final int AT_ONCE = 4;
    /** The longest answer read; the helper cuts its detail to 400 bytes. */
    static final int MAX_ANSWER = 1024;
    /** The power limits the helper takes, in watts. */
    static final long MIN_WATTS = 1, MAX_WATTS = 5000;
    /** A GPU UUID as the driver writes it, the only form the helper takes. */
    static final Pattern GPU_UUID = Pattern.compile("GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern ANSWER = Pattern.compile("(ok|failed|refused) ([0-9]{1,3}) ?(.*)");
    /** nvidia-smi's exit status for "insufficient permissions". */
    static final int NO_PERMISSION = 4;

    /** What the helper answered. {@code code} is nvidia-smi's exit status (64 for a refused request). */
    record Answer(Status status, int code, String detail) {
        String describe() {
            return status.name().toLowerCase(Locale.ROOT) + " (exit " + code + ")" + (detail.isBlank() ? "" : ": " + detail);
        }
    }

    enum Status {
        /** Done. */
        OK,
        /** nvidia-smi ran and failed. */
        FAILED,
        /** The request was not one the helper takes; nothing ran. */
        REFUSED
    }

    /** The socket could not be reached: nothing was sent, nothing changed. The message says what to do. */
    static final class Unreachable extends IOException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Path path;
    private final Semaphore open = new Semaphore(AT_ONCE, true);

    PrivilegedSocket(Path path) {
        this.path = path;
    }

    Path path() {
        return path;
    }

    /**
     * The reset step's outcome: succeeded; rejected when nothing could have changed (the socket unreachable,
     * the request refused, nvidia-smi without permission), which never counts toward escalation; timed out;
     * else failed.
     */
    StepOutcome reset(String uuid, Duration timeout) throws InterruptedException {
        Answer a;
        try {
            a = ask("reset", uuid, null, timeout);
        } catch (Unreachable e) {
            return new StepOutcome(Result.REJECTED, e.getMessage());
        } catch (SocketTimeoutException e) {
            return new StepOutcome(Result.TIMED_OUT, e.getMessage());
        } catch (IOException e) {
            return StepOutcome.failed(e.getMessage());
        }
        String what = "gpu-agent-privileged reset: " + a.describe();
        return switch (a.status()) {
            case OK -> StepOutcome.ok(what);
            case REFUSED -> new StepOutcome(Result.REJECTED, what + "; nothing ran");
            case FAILED -> a.code() == NO_PERMISSION ? new StepOutcome(Result.REJECTED, what + "; " + NO_PERMISSION_FIX)
                    : StepOutcome.failed(what);
        };
    }

    /** Sets the power limit, in whole watts; a refusal throws as {@link NvmlWrites} does, so the step ends the same way. */
    void setPowerLimit(String uuid, long watts, Duration timeout) throws IOException, InterruptedException {
        settle("setting the power limit to " + watts + " W", ask("set-power-limit", uuid, watts, timeout));
    }

    /** Resets locked GPU, memory and application clocks; what each came to. */
    String resetClocks(String uuid, Duration timeout) throws IOException, InterruptedException {
        return settle("resetting the clocks", ask("reset-clocks", uuid, null, timeout));
    }

    private static final String NO_PERMISSION_FIX = "nvidia-smi in gpu-agent-privileged@.service lacks CAP_SYS_ADMIN: "
            + "keep CapabilityBoundingSet=CAP_SYS_ADMIN in that unit (systemd/README.md)";

    private static String settle(String what, Answer a) {
        String text = what + " through gpu-agent-privileged: " + a.describe();
        return switch (a.status()) {
            case OK -> a.detail();
            case REFUSED -> throw new NvmlWrites.Refused(text + "; nothing ran", null);
            // nvidia-smi's exit statuses: 4 insufficient permissions; 2 invalid argument, 3 not supported,
            // 6 not found, 15 GPU lost: final, as NVML's are on the in-process path.
            case FAILED -> throw switch (a.code()) {
                case NO_PERMISSION -> new NvmlWrites.NoPermission(text + "; " + NO_PERMISSION_FIX, null);
                case 2, 3, 6, 15 -> new NvmlWrites.Refused(text, null);
                default -> new IllegalStateException(text);
            };
        };
    }

    /** Asks for one request ({@code action}, GPU, and a power limit for set-power-limit), all within {@code timeout}. */
    Answer ask(String action, String uuid, Long watts, Duration timeout) throws IOException, InterruptedException {
        if (!GPU_UUID.matcher(uuid).matches()) {
            throw new IllegalArgumentException("GPU UUID '" + uuid + "' is not in the driver's form GPU-xxxxxxxx-xxxx-xxxx-"
                    + "xxxx-xxxxxxxxxxxx; gpu-agent-privileged takes no other");
        }
        if (watts != null && (watts < MIN_WATTS || watts > MAX_WATTS)) {
            throw new IllegalArgumentException("power limit " + watts + " W is outside " + MIN_WATTS + ".." + MAX_WATTS + " W");
        }
        String request = action + " " + uuid + (watts == null ? "" : " " + watts) + "\n";
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!open.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new SocketTimeoutException(AT_ONCE + " requests to " + path + " already open for " + timeout);
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            // A unix socket's connect and read take no timeout: a deadline thread closes the channel instead,
            // which ends a blocked connect or read with AsynchronousCloseException.
            Thread deadlineThread = Thread.ofVirtual().name("privileged-deadline").start(() -> {
                try {
                    Thread.sleep(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                    channel.close();
                } catch (InterruptedException | IOException e) {
                    // answered in time, or already closed
                }
            });
            try {
                connect(channel);
                ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
                while (out.hasRemaining()) {
                    channel.write(out);
                }
                return parse(readLine(channel));
            } catch (AsynchronousCloseException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException("stopped while waiting for " + path);
                }
                throw new SocketTimeoutException("no answer from gpu-agent-privileged (" + path + ") within " + timeout
                        + " to '" + request.strip() + "'; it may still be running: journalctl -u 'gpu-agent-privileged@*'");
            } finally {
                deadlineThread.interrupt();
            }
        } finally {
            open.release();
        }
    }

    private void connect(SocketChannel channel) throws IOException {
        try {
            channel.connect(UnixDomainSocketAddress.of(path));
        } catch (AsynchronousCloseException e) {
            throw e;
        } catch (IOException e) {
            throw new Unreachable("cannot connect to gpu-agent-privileged at " + path + " (" + e.getMessage() + "): start "
                    + "gpu-agent-privileged.socket (the enforce-mode drop-in pulls it in; systemctl start "
                    + "gpu-agent-privileged.socket), and run the agent in the group gpu-agent; or unset "
                    + "gpu-agent.recovery.privileged-socket", e);
        }
    }

    private String readLine(SocketChannel channel) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(MAX_ANSWER);
        while (in.hasRemaining()) {
            int n = channel.read(in);
            for (int i = in.position() - Math.max(n, 0); i < in.position(); i++) {
                if (in.get(i) == '\n') {
                    return new String(in.array(), 0, i, StandardCharsets.UTF_8);
                }
            }
            if (n < 0) {
                throw new IOException("gpu-agent-privileged (" + path + ") closed the connection without answering"
                        + (in.position() > 0 ? " a whole line" : "") + "; see journalctl -u 'gpu-agent-privileged@*'");
            }
        }
        throw new IOException("gpu-agent-privileged (" + path + ") answered more than " + MAX_ANSWER + " bytes in one line");
    }

    static Answer parse(String line) throws IOException {
        var m = ANSWER.matcher(line.replaceAll("\\p{Cntrl}", " "));
        if (!m.matches()) {
            throw new IOException("gpu-agent-privileged answered '" + line.replaceAll("\\p{Cntrl}", " ")
                    + "', not '<ok|failed|refused> <code> <detail>'");
        }
        return new Answer(Status.valueOf(m.group(1).toUpperCase(Locale.ROOT)), Integer.parseInt(m.group(2)), m.group(3).strip());
    }
}
