package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both decisions of the default listen address; FaultInjectionPortSquatterIT starts the packaged agent on each. */
class ListenHostConfigSourceTest {

    @TempDir
    Path dir;

    @Test
    void dualStackWhereTheKernelHasIpv6() throws Exception {
        Path ifInet6 = Files.writeString(dir.resolve("if_inet6"), "00000000000000000000000000000001 01 80 10 80       lo\n");
        assertEquals("::", ListenHostConfigSource.anyAddress(ifInet6, false));
    }

    @Test
    void theIpv4WildcardOnAHostBootedWithIpv6Disabled() {
        assertEquals("0.0.0.0", ListenHostConfigSource.anyAddress(dir.resolve("no-if_inet6"), false));
    }

    @Test
    void theIpv4WildcardWhenJavaIsToldToUseIpv4Only() throws Exception {
        Path ifInet6 = Files.writeString(dir.resolve("if_inet6"), "");
        assertEquals("0.0.0.0", ListenHostConfigSource.anyAddress(ifInet6, true));
    }
}
