package io.gpuagent.agent.kubelet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.kubelet.HpackDecoder.Field;
import io.gpuagent.agent.kubelet.KubeletFailure.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The call against a scripted peer that writes HTTP/2 frames byte by byte: everything the protocol allows a server
 * to do on the way to an answer, and each way a server can fail or break the protocol. (The grpc-java server that
 * a real answer comes from is {@link FakeKubelet}, in PodRefresherTest.)
 */
class UnixGrpcCallTest {

    private static final Duration DEADLINE = Duration.ofSeconds(5);
    private static final int LIMIT = 1 << 20;
    private static final byte[] REQUEST = {0x0a, 0x01, 0x78};

    @TempDir
    Path dir;

    private ServerSocketChannel server;
    private CompletableFuture<List<Frame>> afterAnswer;

    /** A frame as the peer read it from the client. */
    record Frame(int type, int flags, int stream, byte[] payload) { }

    /** What the peer writes once it has read the client's request; it may also wait or close. */
    interface Script {
        void play(SocketChannel client) throws Exception;
    }

    @AfterEach
    void close() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anAnswerInPiecesWithEveryFrameAServerMaySend() throws Exception {
        byte[] message = new byte[40_000];
        for (int i = 0; i < message.length; i++) {
            message[i] = (byte) i;
        }
        byte[] whole = grpcMessage(message);
        List<Frame> request = new ArrayList<>();
        byte[] answer = call(client -> {
            request.addAll(readRequest(client));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(frame(4, 0, 0, ByteBuffer.allocate(6).putShort((short) 3).putInt(100).array()));
            out.writeBytes(frame(4, 1, 0, new byte[0]));                     // SETTINGS ACK
            out.writeBytes(frame(8, 0, 0, ByteBuffer.allocate(4).putInt(1000).array()));
            out.writeBytes(frame(6, 0, 0, "pingpong".getBytes(StandardCharsets.US_ASCII)));
            // Response headers: padded, with priority, split over a CONTINUATION.
            byte[] block = block(":status", "200", "content-type", "application/grpc+proto");
            ByteArrayOutputStream headers = new ByteArrayOutputStream();
            headers.write(3);                                                    // pad length
            headers.writeBytes(new byte[] {0, 0, 0, 0, 15});                     // priority
            headers.write(block, 0, 10);
            headers.writeBytes(new byte[3]);                                     // padding
            out.writeBytes(frame(1, 0x8 | 0x20, 1, headers.toByteArray()));
            out.writeBytes(frame(9, 0x4, 1, java.util.Arrays.copyOfRange(block, 10, block.length)));
            out.writeBytes(frame(0xfa, 0, 0, new byte[] {1, 2, 3}));            // unknown type: ignored
            out.writeBytes(frame(2, 0, 1, new byte[5]));                        // PRIORITY
            // The message over several DATA frames, the first padded and holding only part of the prefix.
            ByteArrayOutputStream padded = new ByteArrayOutputStream();
            padded.write(4);
            padded.write(whole, 0, 3);
            padded.writeBytes(new byte[4]);
            out.writeBytes(frame(0, 0x8, 1, padded.toByteArray()));
            for (int at = 3; at < whole.length; at += 16_384) {
                out.writeBytes(frame(0, 0, 1, java.util.Arrays.copyOfRange(whole, at, Math.min(whole.length,
                        at + 16_384))));
            }
            out.writeBytes(frame(1, 0x4 | 0x1, 1, block("grpc-status", "0")));
            client.write(ByteBuffer.wrap(out.toByteArray()));
            afterAnswer.complete(readFrames(client));
        });
        assertArrayEquals(message, answer);

        // What the client sent: its settings and window, the call's headers, one message that ends the stream.
        assertEquals(4, request.get(0).type());
        ByteBuffer settings = ByteBuffer.wrap(request.get(0).payload());
        assertEquals(2, settings.getShort());
        assertEquals(0, settings.getInt());   // no push
        assertEquals(4, settings.getShort());
        assertEquals(UnixGrpcCall.WINDOW, settings.getInt());
        assertEquals(8, request.get(1).type());
        assertEquals(UnixGrpcCall.WINDOW - 65_535, ByteBuffer.wrap(request.get(1).payload()).getInt());
        Frame headers = request.get(2);
        assertEquals(List.of(1, 0x4, 1), List.of(headers.type(), headers.flags(), headers.stream()));
        List<Field> fields = new HpackDecoder(4096).decode(headers.payload(), 1 << 16);
        assertEquals(List.of(new Field(":method", "POST"), new Field(":scheme", "http"),
                new Field(":path", "/v1.PodResourcesLister/List"), new Field(":authority", "localhost"),
                new Field("content-type", "application/grpc"), new Field("te", "trailers"),
                new Field("grpc-timeout", "5000m"), new Field("user-agent", "gpu-agent")), fields);
        Frame data = request.get(3);
        assertEquals(List.of(0, 0x1, 1), List.of(data.type(), data.flags(), data.stream()));
        assertArrayEquals(grpcMessage(REQUEST), data.payload());

        // And after the answer: the settings acknowledged, the ping answered, a GOAWAY.
        List<Frame> after = afterAnswer.get(5, TimeUnit.SECONDS);
        assertTrue(after.stream().anyMatch(f -> f.type() == 4 && f.flags() == 1), "SETTINGS ACK");
        assertTrue(after.stream().anyMatch(f -> f.type() == 6 && f.flags() == 1
                && new String(f.payload(), StandardCharsets.US_ASCII).equals("pingpong")), "PING ACK");
        assertEquals(7, after.getLast().type());
    }

    @Test
    void aFailedCallSaysTheStatusAndItsMessage() {
        KubeletFailure failure = fails(client -> answer(client, trailersOnly("12",
                "unknown service v1.PodResourcesLister: %E2%9C%97")));
        assertEquals(Reason.ERROR, failure.reason());
        assertEquals(KubeletFailure.UNIMPLEMENTED, failure.status());
        assertTrue(failure.getMessage().endsWith(
                ": UNIMPLEMENTED (unknown service v1.PodResourcesLister: \u2717)"), failure.getMessage());
    }

    @Test
    void statusesMapToTheReasonsAGrpcClientGives() {
        assertEquals(Reason.UNAVAILABLE, fails(client -> answer(client, trailersOnly("14", "shutting down"))).reason());
        assertEquals(Reason.DEADLINE, fails(client -> answer(client, trailersOnly("4", "too slow"))).reason());
        assertEquals(Reason.TOO_LARGE, fails(client -> answer(client, trailersOnly("8", "too big"))).reason());
        assertEquals(Reason.ERROR, fails(client -> answer(client, trailersOnly("7", "denied"))).reason());
        assertEquals(Reason.UNAVAILABLE, fails(client -> answer(client,
                frame(1, 0x5, 1, block(":status", "503", "content-type", "text/plain")))).reason());
        assertEquals(Reason.ERROR, fails(client -> answer(client,
                frame(1, 0x5, 1, block(":status", "404", "content-type", "text/plain")))).reason());
        assertEquals(Reason.UNAVAILABLE, fails(client -> answer(client,                  // REFUSED_STREAM
                frame(3, 0, 1, ByteBuffer.allocate(4).putInt(7).array()))).reason());
        assertEquals(Reason.ERROR, fails(client -> answer(client,                        // INTERNAL_ERROR
                frame(3, 0, 1, ByteBuffer.allocate(4).putInt(2).array()))).reason());
        KubeletFailure goAway = fails(client -> answer(client, frame(7, 0, 0, new byte[8])));
        assertEquals(Reason.UNAVAILABLE, goAway.reason());
        assertTrue(goAway.getMessage().contains("GOAWAY"), goAway.getMessage());
    }

    @Test
    void anAnswerOverTheLimitIsRefusedFromItsLengthWithoutWaitingForIt() {
        KubeletFailure failure = fails(client -> {
            answer(client, responseHeaders(), frame(0, 0, 1, new byte[] {0, 0, (byte) 0x80, 0, 0}));   // 8 MiB
            Thread.sleep(10_000);   // and nothing more: waiting for it would end at the deadline instead
        });
        assertEquals(Reason.TOO_LARGE, failure.reason());
        assertTrue(failure.getMessage().contains("answered 8388608 bytes, over the limit of 1048576"),
                failure.getMessage());
    }

    @Test
    void aPeerThatBreaksTheProtocolGetsAnError() {
        assertError("does not speak HTTP/2", client -> client.write(ByteBuffer.wrap(
                "HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII))));
        assertError("compressed", client -> answer(client, responseHeaders(),
                frame(0, 0, 1, new byte[] {1, 0, 0, 0, 0}), trailers("0")));
        assertError("more than one message", client -> answer(client, responseHeaders(),
                frame(0, 0, 1, grpcMessage(REQUEST)), frame(0, 0, 1, grpcMessage(REQUEST)), trailers("0")));
        assertError("without trailers", client -> answer(client, responseHeaders(),
                frame(0, 0x1, 1, grpcMessage(REQUEST))));
        assertError("no whole answer", client -> answer(client, responseHeaders(), trailers("0")));
        assertError("without a gRPC status", client -> answer(client, responseHeaders(),
                frame(0, 0, 1, grpcMessage(REQUEST)), frame(1, 0x5, 1, block("grpc-message", "no status"))));
        assertError("not gRPC", client -> answer(client, frame(1, 0x4, 1, block(":status", "200",
                "content-type", "text/html"))));
        assertError("over the 16384 allowed", client -> answer(client, frame(0, 0, 1, new byte[16_385])));
        assertError("PUSH_PROMISE", client -> answer(client, frame(5, 0x4, 1, new byte[4])));
        assertError("stream 3", client -> answer(client, frame(1, 0x4, 3, block(":status", "200"))));
        assertError("DATA before the response headers", client -> answer(client,
                frame(0, 0, 1, grpcMessage(REQUEST))));
        assertError("CONTINUATION", client -> answer(client, frame(1, 0, 1, block(":status", "200")),
                frame(0, 0, 1, new byte[0])));
        assertError("HPACK", client -> answer(client, frame(1, 0x4, 1, new byte[] {(byte) 0x80})));
        assertError("without its pad length", client -> answer(client, frame(1, 0x4 | 0x8, 1, new byte[0])));
        assertError("shorter than its padding", client -> answer(client, responseHeaders(),
                frame(0, 0x8, 1, new byte[] {9, 0, 0})));
    }

    @Test
    void aPeerThatClosesOrSaysNothing() throws Exception {
        assertEquals(Reason.UNAVAILABLE, fails(SocketChannel::close).reason());
        assertEquals(Reason.UNAVAILABLE, fails(client -> {
            readRequest(client);
            client.write(ByteBuffer.wrap(frame(4, 0, 0, new byte[0])));
            client.write(ByteBuffer.wrap(responseHeaders()));
            client.close();
        }).reason());
        KubeletFailure silent = assertThrows(KubeletFailure.class, () -> {
            serve(client -> Thread.sleep(10_000));
            UnixGrpcCall.call(socket(), GrpcPodResources.LIST, REQUEST, Duration.ofMillis(300), LIMIT);
        });
        assertEquals(Reason.DEADLINE, silent.reason());
        assertTrue(silent.getMessage().contains("no answer within 300 ms"), silent.getMessage());
    }

    @Test
    void aMissingSocketAndOneNobodyListensOn() throws IOException {
        KubeletFailure missing = assertThrows(KubeletFailure.class,
                () -> UnixGrpcCall.call(dir.resolve("none.sock"), GrpcPodResources.LIST, REQUEST, DEADLINE, LIMIT));
        assertEquals(Reason.SOCKET_MISSING, missing.reason());

        Path stale = dir.resolve("stale.sock");
        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(stale)).close();
        KubeletFailure refused = assertThrows(KubeletFailure.class,
                () -> UnixGrpcCall.call(stale, GrpcPodResources.LIST, REQUEST, DEADLINE, LIMIT));
        assertEquals(Reason.UNAVAILABLE, refused.reason());
    }

    @Test
    void anAnswerThatIsNotTheProtoMessageIsAnError() throws Exception {
        serve(client -> answer(client, responseHeaders(), frame(0, 0, 1, grpcMessage(new byte[] {(byte) 0xff})),
                trailers("0")));
        KubeletFailure failure = assertThrows(KubeletFailure.class,
                () -> new GrpcPodResources(socket(), DEADLINE, LIMIT).list());
        assertEquals(Reason.ERROR, failure.reason());
        assertTrue(failure.getMessage().contains("not a ListPodResourcesResponse"), failure.getMessage());
    }

    // The peer.

    private Path socket() {
        return dir.resolve("kubelet.sock");
    }

    private void serve(Script script) throws IOException {
        close();
        java.nio.file.Files.deleteIfExists(socket());
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket()));
        afterAnswer = new CompletableFuture<>();
        ServerSocketChannel listening = server;
        Thread.ofVirtual().start(() -> {
            try (SocketChannel client = listening.accept()) {
                script.play(client);
            } catch (Exception e) {
                afterAnswer.completeExceptionally(e);
            }
        });
    }

    private byte[] call(Script script) throws Exception {
        serve(script);
        return UnixGrpcCall.call(socket(), GrpcPodResources.LIST, REQUEST, DEADLINE, LIMIT);
    }

    private KubeletFailure fails(Script script) {
        return assertThrows(KubeletFailure.class, () -> call(script));
    }

    private void assertError(String why, Script script) {
        KubeletFailure failure = fails(script);
        assertEquals(Reason.ERROR, failure.reason(), failure.getMessage());
        assertTrue(failure.getMessage().contains(why), why + " in: " + failure.getMessage());
    }

    /** Reads the request, then writes the server's settings and {@code frames}. */
    private static void answer(SocketChannel client, byte[]... frames) throws IOException {
        readRequest(client);
        client.write(ByteBuffer.wrap(frame(4, 0, 0, new byte[0])));
        for (byte[] frame : frames) {
            client.write(ByteBuffer.wrap(frame));
        }
    }

    /** The preface, then frames up to the one that ends stream 1. */
    private static List<Frame> readRequest(SocketChannel client) throws IOException {
        ByteBuffer preface = ByteBuffer.allocate(24);
        readFully(client, preface);
        assertEquals("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", new String(preface.array(), StandardCharsets.US_ASCII));
        List<Frame> frames = new ArrayList<>();
        while (frames.isEmpty() || (frames.getLast().flags() & 1) == 0 || frames.getLast().stream() != 1) {
            frames.add(readFrame(client));
        }
        return frames;
    }

    private static List<Frame> readFrames(SocketChannel client) {
        List<Frame> frames = new ArrayList<>();
        try {
            while (true) {
                frames.add(readFrame(client));
            }
        } catch (IOException end) {
            return frames;
        }
    }

    private static Frame readFrame(SocketChannel client) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(9);
        readFully(client, header);
        header.flip();
        int length = ((header.get() & 0xff) << 16) | ((header.get() & 0xff) << 8) | (header.get() & 0xff);
        int type = header.get() & 0xff;
        int flags = header.get() & 0xff;
        int stream = header.getInt();
        ByteBuffer payload = ByteBuffer.allocate(length);
        readFully(client, payload);
        return new Frame(type, flags, stream, payload.array());
    }

    private static void readFully(SocketChannel client, ByteBuffer into) throws IOException {
        while (into.hasRemaining()) {
            if (client.read(into) < 0) {
                throw new IOException("end of stream");
            }
        }
    }

    static byte[] frame(int type, int flags, int stream, byte[] payload) {
        return ByteBuffer.allocate(9 + payload.length).put((byte) (payload.length >>> 16))
                .put((byte) (payload.length >>> 8)).put((byte) payload.length).put((byte) type).put((byte) flags)
                .putInt(stream).put(payload).array();
    }

    /** Literal fields with literal names, never indexed, no Huffman (short names and values only). */
    static byte[] block(String... namesAndValues) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            out.write(0x10);
            for (String text : new String[] {namesAndValues[i], namesAndValues[i + 1]}) {
                byte[] octets = text.getBytes(StandardCharsets.US_ASCII);
                out.write(octets.length);
                out.writeBytes(octets);
            }
        }
        return out.toByteArray();
    }

    private static byte[] responseHeaders() {
        return frame(1, 0x4, 1, block(":status", "200", "content-type", "application/grpc"));
    }

    private static byte[] trailers(String status) {
        return frame(1, 0x5, 1, block("grpc-status", status));
    }

    private static byte[] trailersOnly(String status, String message) {
        return frame(1, 0x5, 1, block(":status", "200", "content-type", "application/grpc", "grpc-status", status,
                "grpc-message", message));
    }

    private static byte[] grpcMessage(byte[] message) {
        return ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message).array();
    }
}
