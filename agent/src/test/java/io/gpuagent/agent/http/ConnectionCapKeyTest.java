package io.gpuagent.agent.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** What the per-address caps count together: one IPv4 address, one IPv6 /64, every unix socket peer as one. */
class ConnectionCapKeyTest {

    @Test
    void anIpv6ClientIsItsSlash64AndAnIpv4OneItsAddress() {
        assertEquals("127.0.0.2", ConnectionCap.key(new InetSocketAddress("127.0.0.2", 40000)));
        assertEquals(ConnectionCap.key(new InetSocketAddress("2001:db8:1:2:aaaa::1", 1)),
                ConnectionCap.key(new InetSocketAddress("2001:db8:1:2:ffff:ffff:ffff:ffff", 2)));
        assertEquals("2001:db8:1:2:0:0:0:0/64", ConnectionCap.key(new InetSocketAddress("2001:db8:1:2::9", 1)));
        assertEquals("2001:db8:1:3:0:0:0:0/64", ConnectionCap.key(new InetSocketAddress("2001:db8:1:3::9", 1)));
        assertEquals("0:0:0:0:0:0:0:0/64", ConnectionCap.key(new InetSocketAddress("::1", 1)));
    }

    @Test
    void vertxAddressesCountAsTheSameKeysAndAUnixSocketPeerAsLocal() {
        assertEquals("10.1.2.3", ConnectionCap.key(io.vertx.core.net.SocketAddress.inetSocketAddress(
                new InetSocketAddress("10.1.2.3", 1))));
        assertEquals("2001:db8:0:0:0:0:0:0/64", ConnectionCap.key(io.vertx.core.net.SocketAddress.inetSocketAddress(
                new InetSocketAddress("2001:db8::7", 1))));
        assertEquals("local", ConnectionCap.key(io.vertx.core.net.SocketAddress.domainSocketAddress("/run/gpu-agent.sock")));
    }
}
