package io.gpuagent.agent.http;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/**
 * What counts as running out of memory: the error itself, or wrapped as the libraries wrap it (Quarkus' output
 * stream in a RuntimeException, Netty's encoders in an EncoderException, a suppressed one). The exit itself is
 * FaultInjectionDirectMemoryIT's, on a real process.
 */
class OutOfMemoryExitTest {

    @Test
    void findsTheErrorWhereverTheLibrariesWrappedIt() {
        OutOfMemoryError direct = new OutOfMemoryError("Cannot reserve 2168 bytes of direct buffer memory");
        assertSame(direct, OutOfMemoryExit.outOfMemory(direct));
        assertSame(direct, OutOfMemoryExit.outOfMemory(new RuntimeException(direct)));
        assertSame(direct, OutOfMemoryExit.outOfMemory(new io.netty.handler.codec.EncoderException(
                new IllegalStateException("write failed", direct))));
        RuntimeException withSuppressed = new RuntimeException("closing");
        withSuppressed.addSuppressed(direct);
        assertSame(direct, OutOfMemoryExit.outOfMemory(withSuppressed));
    }

    @Test
    void anythingElseIsNotAndACycleEnds() {
        assertNull(OutOfMemoryExit.outOfMemory(null));
        assertNull(OutOfMemoryExit.outOfMemory(new IllegalStateException(new java.io.IOException("reset by peer"))));
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.addSuppressed(b);
        assertNull(OutOfMemoryExit.outOfMemory(b));
    }
}
