package io.gpuagent.agent.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** An h2c upgrade request is answered in HTTP/1.1 (see {@link NoCleartextHttp2} for why). */
@QuarkusTest
class NoCleartextHttp2Test {

    @TestHTTPResource("/health")
    URI health;

    @Test
    void anH2cUpgradeIsAnsweredInHttp11() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(health.getHost(), health.getPort()), 2000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            // The upgrade request java.net.http and curl --http2 send; AAMAAABkAAQAAP__ is a valid SETTINGS payload.
            out.write(("GET /health HTTP/1.1\r\nHost: " + health.getHost() + "\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
            assertTrue(status != null && status.startsWith("HTTP/1.1 ") && !status.startsWith("HTTP/1.1 101"),
                    "status line: " + status);
        }
    }

    @Test
    void theJavaClientStaysOnHttp11() throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {   // asks for HTTP/2 (h2c upgrade) by default
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(r.version() == HttpClient.Version.HTTP_1_1, "version: " + r.version());
        }
    }
}
