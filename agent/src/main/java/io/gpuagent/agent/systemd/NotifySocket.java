package io.gpuagent.agent.systemd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * systemd's notify protocol (sd_notify(3)) spoken without libsystemd: one AF_UNIX datagram per message to
 * {@code $NOTIFY_SOCKET}. The JDK cannot send unix datagrams (its unix sockets are stream only), so this
 * calls libc's {@code socket} and {@code sendto} through FFM. A path starting with {@code @} is in the
 * abstract namespace (the {@code @} becomes a NUL byte, no terminating NUL). Thread-safe: every send is
 * one system call on a socket that is never connected.
 */
public final class NotifySocket implements AutoCloseable {

    static final int AF_UNIX = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 0x80000;
    /** Never block the caller (the sampler thread) on a full receive queue, and never raise SIGPIPE. */
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;
    /** struct sockaddr_un: sa_family_t sun_family; char sun_path[108]. */
    static final int SUN_PATH_MAX = 108;
    static final long SOCKADDR_UN_SIZE = 2 + SUN_PATH_MAX;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SENDTO = libc("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private final String path;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment address;
    private final int addressLength;
    private final int fd;

    /** Opens a datagram socket for sending to {@code path} (a file system path, or {@code @name}). */
    public NotifySocket(String path) throws IOException {
        this.path = path;
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = path.startsWith("@");
        if (name.length == 0 || !(abstractName || path.startsWith("/"))) {
            throw new IOException("NOTIFY_SOCKET=" + path + " is neither an absolute path nor an abstract name (@...)");
        }
        // A path needs its terminating NUL; an abstract name is exactly its bytes, the leading '@' becoming NUL.
        int length = abstractName ? name.length : name.length + 1;
        if (length > SUN_PATH_MAX) {
            throw new IOException("NOTIFY_SOCKET=" + path + " is longer than the " + SUN_PATH_MAX + " bytes of sun_path");
        }
        address = arena.allocate(SOCKADDR_UN_SIZE);
        address.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(name, 0, address, JAVA_BYTE, 2, name.length);
        if (abstractName) {
            address.set(JAVA_BYTE, 2, (byte) 0);
        }
        addressLength = 2 + length;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = call.allocate(CALL_STATE);
            int s = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (s < 0) {
                arena.close();
                throw new IOException("socket(AF_UNIX, SOCK_DGRAM) failed: errno " + (int) ERRNO.get(state, 0L));
            }
            fd = s;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new IOException("socket(AF_UNIX, SOCK_DGRAM) could not be called: " + t, t);
        }
    }

    /** Sends one message ({@code READY=1}, {@code STATUS=...}, several separated by newlines). */
    public void send(String message) throws IOException {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buf = call.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE, 0, bytes.length);
            MemorySegment state = call.allocate(CALL_STATE);
            long sent = (long) SENDTO.invokeExact(state, fd, buf, (long) bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL,
                    address, addressLength);
            if (sent < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new IOException("sendto(" + path + ") failed: " + describe(errno));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("sendto(" + path + ") could not be called: " + t, t);
        }
    }

    public String path() {
        return path;
    }

    @Override
    public void close() {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // Nothing to do: the descriptor goes with the process.
        }
        arena.close();
    }

    private static String describe(int errno) {
        return switch (errno) {
            case 2 -> "ENOENT (the socket does not exist: is systemd running this unit with Type=notify?)";
            case 11 -> "EAGAIN (systemd's notify queue is full)";
            case 13 -> "EACCES (the agent's user may not write to the socket)";
            case 111 -> "ECONNREFUSED (nothing listens on the socket)";
            default -> "errno " + errno;
        };
    }

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        Linker.Option[] options = name.equals("close") ? new Linker.Option[0]
                : new Linker.Option[] {Linker.Option.captureCallState("errno")};
        return LINKER.downcallHandle(symbol, fd, options);
    }
}
