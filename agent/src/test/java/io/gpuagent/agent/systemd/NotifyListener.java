package io.gpuagent.agent.systemd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * What systemd does for Type=notify, for tests: binds an AF_UNIX datagram socket (through FFM; the JDK
 * cannot) and collects every message sent to it, one per datagram, in arrival order.
 */
final class NotifyListener implements AutoCloseable {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = libc("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECV = libc("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final int MSG_DONTWAIT = 0x40;

    /** One datagram and when it arrived ({@link System#nanoTime()}). */
    record Message(String text, long nanos) {
        boolean has(String line) {
            return text.lines().anyMatch(line::equals);
        }
    }

    private final String address;
    private final int fd;
    private final LinkedBlockingQueue<Message> messages = new LinkedBlockingQueue<>();
    private final Thread reader;
    private volatile boolean open = true;

    /** Binds {@code address}: a path (removed again on close) or {@code @name} in the abstract namespace. */
    NotifyListener(String address) throws Throwable {
        this.address = address;
        byte[] name = address.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = address.startsWith("@");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(NotifySocket.SOCKADDR_UN_SIZE);
            sa.set(JAVA_SHORT, 0, (short) NotifySocket.AF_UNIX);
            MemorySegment.copy(name, 0, sa, JAVA_BYTE, 2, name.length);
            if (abstractName) {
                sa.set(JAVA_BYTE, 2, (byte) 0);
            }
            fd = (int) SOCKET.invokeExact(NotifySocket.AF_UNIX, NotifySocket.SOCK_DGRAM, 0);
            int length = 2 + name.length + (abstractName ? 0 : 1);
            if (fd < 0 || (int) BIND.invokeExact(fd, sa, length) != 0) {
                throw new IllegalStateException("could not bind a unix datagram socket at " + address);
            }
        }
        reader = Thread.ofPlatform().daemon(true).name("notify-listener").start(this::read);
    }

    String address() {
        return address;
    }

    /** The next message that has {@code line} as one of its lines, within {@code timeout}; null when none came. */
    Message next(String line, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        for (long left; (left = end - System.nanoTime()) > 0; ) {
            Message m = messages.poll(left, TimeUnit.NANOSECONDS);
            if (m != null && m.has(line)) {
                return m;
            }
        }
        return null;
    }

    /** Forgets what arrived so far. */
    void clear() {
        messages.clear();
    }

    private void read() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            while (open) {
                long n = (long) RECV.invokeExact(fd, buf, 4096L, MSG_DONTWAIT);
                if (n > 0) {
                    messages.add(new Message(new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8),
                            System.nanoTime()));
                } else {
                    Thread.sleep(10);
                }
            }
        } catch (Throwable t) {
            if (open) {
                throw new IllegalStateException("notify listener failed", t);
            }
        }
    }

    @Override
    public void close() throws Exception {
        open = false;
        reader.join(1000);
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close failed", t);
        }
        if (!address.startsWith("@")) {
            Files.deleteIfExists(Path.of(address));
        }
    }

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }
}
