package io.gpuagent.agent.kubelet;

import io.gpuagent.agent.kubelet.KubeletFailure.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One unary gRPC call on a unix socket, as the kubelet serves its pod-resources API: HTTP/2 with prior knowledge
 * (RFC 9113), gRPC's framing of messages and its status in the trailers, on the JDK alone. One connection per call,
 * closed at its end: a restarted kubelet's new socket is simply the next call's, and nothing is held in between.
 *
 * <p>Bounded in everything the peer controls: the whole call by the deadline (connect, every read and write); the
 * answer by {@code maxAnswerBytes}, refused from the length gRPC puts before the message, before it is received;
 * each frame by the protocol's default maximum size (16 KiB, which this side never raises); header blocks by
 * {@link #MAX_HEADER_BLOCK}. The peer's flow-control window is {@link #WINDOW} and refilled only as the answer
 * is taken in, so what is in flight is bounded too.
 *
 * <p>A failure is a {@link KubeletFailure} with the reason a gRPC client would give: the deadline, an answer over the
 * limit, a socket that takes no connection or a connection lost ({@code UNAVAILABLE}, also the gRPC status of that
 * name and a refused stream), and anything else, such as a peer that does not speak HTTP/2 or breaks its rules.
 */
final class UnixGrpcCall {

    // Frame types, flags and settings (RFC 9113 section 6).
    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int PRIORITY = 0x2;
    private static final int RST_STREAM = 0x3;
    private static final int SETTINGS = 0x4;
    private static final int PUSH_PROMISE = 0x5;
    private static final int PING = 0x6;
    private static final int GOAWAY = 0x7;
    private static final int WINDOW_UPDATE = 0x8;
    private static final int CONTINUATION = 0x9;
    private static final int END_STREAM = 0x1;
    private static final int ACK = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final int PADDED = 0x8;
    private static final int PRIORITY_FLAG = 0x20;
    private static final int SETTINGS_ENABLE_PUSH = 0x2;
    private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
    private static final int SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;
    private static final int REFUSED_STREAM = 0x7;

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int STREAM = 1;
    private static final int MAX_FRAME = 16_384;
    private static final int DEFAULT_WINDOW = 65_535;
    /** What the peer may send before this side takes it in (stream and connection alike). */
    static final int WINDOW = 1 << 20;
    /** The largest header block (with its continuations) and header list taken. */
    static final int MAX_HEADER_BLOCK = 16_384;
    /** The HPACK dynamic table the peer may use: the protocol's default, never changed by our settings. */
    private static final int HPACK_TABLE = 4096;
    /** The longest part of the peer's status message kept (it ends up in a log line). */
    private static final int MAX_DESCRIPTION = 200;

    private static final String[] CODES = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

    private final Path socket;
    private final String method;
    private final long deadlineNanos;
    private final long timeoutMillis;
    private final int maxAnswerBytes;
    private final HpackDecoder hpack = new HpackDecoder(HPACK_TABLE);
    private final byte[] buffer = new byte[9 + MAX_FRAME];
    private final ByteBuffer readInto = ByteBuffer.wrap(buffer);
    private int start;   // buffer[start, end) is read but not yet taken
    private int end;
    private SocketChannel channel;
    private Selector selector;

    // The answer: its 5-byte gRPC prefix, then the message.
    private final byte[] prefix = new byte[5];
    private int prefixRead;
    private byte[] message;
    private int messageRead;
    private int unacknowledged;   // DATA octets taken in since the window was last refilled
    private boolean headersSeen;
    private boolean peerClosed;   // a write failed: the peer reads no more

    private UnixGrpcCall(Path socket, String method, Duration deadline, int maxAnswerBytes) {
        this.socket = socket;
        this.method = method;
        this.deadlineNanos = System.nanoTime() + deadline.toNanos();
        this.timeoutMillis = Math.max(1, deadline.toMillis());
        this.maxAnswerBytes = maxAnswerBytes;
    }

    /**
     * Calls {@code method} ("/package.Service/Method") with the serialised {@code request} and returns the
     * serialised answer.
     */
    static byte[] call(Path socket, String method, byte[] request, Duration deadline, int maxAnswerBytes)
            throws KubeletFailure {
        // One frame each, names and values in one HPACK octet: all the pod-resources calls need.
        if (request.length > MAX_FRAME - 5 || method.length() > 126) {
            throw new IllegalArgumentException("a request of " + request.length + " bytes to " + method
                    + " is over what one frame carries");
        }
        return new UnixGrpcCall(socket, method, deadline, maxAnswerBytes).run(request);
    }

    private byte[] run(byte[] request) throws KubeletFailure {
        if (!Files.exists(socket)) {
            throw new KubeletFailure(Reason.SOCKET_MISSING, "no socket at " + socket, null);
        }
        try (SocketChannel opened = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector opens = Selector.open()) {
            channel = opened;
            selector = opens;
            channel.configureBlocking(false);
            connect();
            // A peer that closes before reading the request may have said why first (an HTTP/1 error, a GOAWAY):
            // what it sent decides, and a peer that sent nothing fails at its end of stream.
            control(request(request));
            byte[] answer = answer();
            control(frame(GOAWAY, 0, 0, new byte[8]));   // last stream 0, NO_ERROR: a polite close
            return answer;
        } catch (ProtocolException e) {
            throw failure(Reason.ERROR, "broke the HTTP/2 protocol: " + e.getMessage(), e);
        } catch (IOException e) {
            throw failure(Reason.UNAVAILABLE, "connection failed: " + e.getMessage(), e);
        }
    }

    private void connect() throws IOException, KubeletFailure {
        SelectionKey key = channel.register(selector, 0);
        if (!channel.connect(UnixDomainSocketAddress.of(socket))) {
            key.interestOps(SelectionKey.OP_CONNECT);
            while (!channel.finishConnect()) {
                await();
            }
        }
        key.interestOps(SelectionKey.OP_READ);
    }

    /** The preface, our settings, the connection's window, the call's headers and its one message. */
    private byte[] request(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + message.length);
        out.writeBytes(PREFACE);
        ByteBuffer settings = ByteBuffer.allocate(18)
                .putShort((short) SETTINGS_ENABLE_PUSH).putInt(0)
                .putShort((short) SETTINGS_INITIAL_WINDOW_SIZE).putInt(WINDOW)
                .putShort((short) SETTINGS_MAX_HEADER_LIST_SIZE).putInt(MAX_HEADER_BLOCK);
        out.writeBytes(frame(SETTINGS, 0, 0, settings.array()));
        out.writeBytes(windowUpdate(0, WINDOW - DEFAULT_WINDOW));
        ByteArrayOutputStream headers = new ByteArrayOutputStream(256);
        for (String[] field : new String[][] {{":method", "POST"}, {":scheme", "http"}, {":path", method},
            {":authority", "localhost"}, {"content-type", "application/grpc"}, {"te", "trailers"},
            {"grpc-timeout", Math.min(timeoutMillis, 99_999_999) + "m"}, {"user-agent", "gpu-agent"}}) {
            headers.write(0);   // a literal field with a literal name, not indexed (RFC 7541 section 6.2.2)
            literal(headers, field[0]);
            literal(headers, field[1]);
        }
        out.writeBytes(frame(HEADERS, END_HEADERS, STREAM, headers.toByteArray()));
        ByteBuffer data = ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message);
        out.writeBytes(frame(DATA, END_STREAM, STREAM, data.array()));
        return out.toByteArray();
    }

    private static void literal(ByteArrayOutputStream out, String text) {
        byte[] octets = text.getBytes(StandardCharsets.US_ASCII);
        out.write(octets.length);   // under 127: one octet, no Huffman
        out.writeBytes(octets);
    }

    /** Frames until the stream ends; the answer's message, or the failure its status names. */
    private byte[] answer() throws IOException, KubeletFailure {
        fill(9);
        if ((buffer[start + 3] & 0xff) != SETTINGS || (buffer[start + 4] & ACK) != 0) {
            throw failure(Reason.ERROR, "does not speak HTTP/2 (the first frame is not SETTINGS)", null);
        }
        while (true) {
            Frame frame = nextFrame();
            int flags = frame.flags();
            int stream = frame.stream();
            int length = frame.length();
            int payload = frame.payload();
            switch (frame.type()) {
                case SETTINGS -> settings(flags, stream, length, payload);
                case PING -> ping(flags, stream, length, payload);
                case GOAWAY -> goAway(stream, length, payload);
                case WINDOW_UPDATE, PRIORITY -> { }   // we send nothing more; priority is advice
                case PUSH_PROMISE -> throw new ProtocolException("PUSH_PROMISE, though push was disabled");
                case RST_STREAM -> throw reset(stream, length, payload);
                case DATA -> {
                    onStream(stream, "DATA");
                    if (!headersSeen) {
                        throw new ProtocolException("DATA before the response headers");
                    }
                    data(flags, length, payload);
                    if ((flags & END_STREAM) != 0) {
                        throw new ProtocolException("the answer ended without trailers");
                    }
                }
                case HEADERS -> {
                    onStream(stream, "HEADERS");
                    List<HpackDecoder.Field> fields = hpack.decode(headerBlock(flags, length, payload),
                            MAX_HEADER_BLOCK);
                    boolean last = (flags & END_STREAM) != 0;
                    if (!headersSeen) {
                        headersSeen = true;
                        checkResponse(fields);
                        if (last) {
                            return finish(fields);   // trailers-only: a status and no message
                        }
                    } else if (last) {
                        return finish(fields);
                    } else {
                        throw new ProtocolException("a second header block that does not end the stream");
                    }
                }
                case CONTINUATION -> throw new ProtocolException("CONTINUATION outside a header block");
                default -> { }   // unknown frame types are ignored (section 5.5)
            }
        }
    }

    /** A frame read whole: its payload is buffer[payload, payload + length) until the next read. */
    private record Frame(int type, int flags, int stream, int length, int payload) { }

    /** The next frame, read whole (at most {@link #MAX_FRAME} octets of payload) and taken from the buffer. */
    private Frame nextFrame() throws IOException, KubeletFailure {
        fill(9);
        int length = ((buffer[start] & 0xff) << 16) | ((buffer[start + 1] & 0xff) << 8) | (buffer[start + 2] & 0xff);
        if (length > MAX_FRAME) {
            throw new ProtocolException("a frame of " + length + " octets, over the " + MAX_FRAME + " allowed");
        }
        fill(9 + length);
        Frame frame = new Frame(buffer[start + 3] & 0xff, buffer[start + 4] & 0xff,
                ByteBuffer.wrap(buffer, start + 5, 4).getInt() & 0x7fffffff, length, start + 9);
        start += 9 + length;
        return frame;
    }

    private void onStream(int stream, String what) throws ProtocolException {
        if (stream != STREAM) {
            throw new ProtocolException(what + " on stream " + stream + ", which this side never opened");
        }
    }

    private void settings(int flags, int stream, int length, int payload) throws ProtocolException, KubeletFailure {
        if (stream != 0 || length % 6 != 0 || ((flags & ACK) != 0 && length != 0)) {
            throw new ProtocolException("a malformed SETTINGS frame");
        }
        // Nothing the peer sets changes what this side sends (one small frame of each kind, never indexed).
        if ((flags & ACK) == 0) {
            control(frame(SETTINGS, ACK, 0, new byte[0]));
        }
    }

    private void ping(int flags, int stream, int length, int payload) throws ProtocolException, KubeletFailure {
        if (stream != 0 || length != 8) {
            throw new ProtocolException("a malformed PING frame");
        }
        if ((flags & ACK) == 0) {
            control(frame(PING, ACK, 0, Arrays.copyOfRange(buffer, payload, payload + 8)));
        }
    }

    private void goAway(int stream, int length, int payload) throws ProtocolException, KubeletFailure {
        if (stream != 0 || length < 8) {
            throw new ProtocolException("a malformed GOAWAY frame");
        }
        int lastStream = ByteBuffer.wrap(buffer, payload, 4).getInt() & 0x7fffffff;
        int code = ByteBuffer.wrap(buffer, payload + 4, 4).getInt();
        if (lastStream < STREAM) {   // the call was not taken; one that was may still finish
            throw failure(Reason.UNAVAILABLE, "is going away (GOAWAY, error code " + code + ")", null);
        }
    }

    private KubeletFailure reset(int stream, int length, int payload) throws ProtocolException {
        onStream(stream, "RST_STREAM");
        if (length != 4) {
            throw new ProtocolException("a malformed RST_STREAM frame");
        }
        int code = ByteBuffer.wrap(buffer, payload, 4).getInt();
        return failure(code == REFUSED_STREAM ? Reason.UNAVAILABLE : Reason.ERROR,
                "reset the call (RST_STREAM, error code " + code + ")", null);
    }

    /** The header block of a HEADERS frame and the CONTINUATION frames that follow it. */
    private byte[] headerBlock(int flags, int length, int payload) throws IOException, KubeletFailure {
        int padding = 0;
        int at = payload;
        if ((flags & PADDED) != 0) {
            if (length == 0) {
                throw new ProtocolException("a padded HEADERS frame without its pad length");
            }
            padding = buffer[at++] & 0xff;
        }
        if ((flags & PRIORITY_FLAG) != 0) {
            at += 5;
        }
        int fragment = payload + length - padding - at;
        if (fragment < 0) {
            throw new ProtocolException("a HEADERS frame shorter than its padding and priority");
        }
        ByteArrayOutputStream block = new ByteArrayOutputStream(fragment);
        block.write(buffer, at, fragment);
        while ((flags & END_HEADERS) == 0) {
            Frame next = nextFrame();
            flags = next.flags();
            if (next.type() != CONTINUATION || next.stream() != STREAM) {
                throw new ProtocolException("a header block not continued by CONTINUATION on its stream");
            }
            if (block.size() + next.length() > MAX_HEADER_BLOCK) {
                throw new ProtocolException("a header block over " + MAX_HEADER_BLOCK + " octets");
            }
            block.write(buffer, next.payload(), next.length());
        }
        if (block.size() > MAX_HEADER_BLOCK) {
            throw new ProtocolException("a header block over " + MAX_HEADER_BLOCK + " octets");
        }
        return block.toByteArray();
    }

    /** The response headers: HTTP 200 and a gRPC content type, or a failure as gRPC maps HTTP statuses. */
    private void checkResponse(List<HpackDecoder.Field> fields) throws KubeletFailure {
        String status = value(fields, ":status");
        if (!"200".equals(status)) {
            Reason reason = switch (String.valueOf(status)) {
                case "429", "502", "503", "504" -> Reason.UNAVAILABLE;
                default -> Reason.ERROR;
            };
            throw failure(reason, "answered HTTP status " + clean(String.valueOf(status)), null);
        }
        String type = value(fields, "content-type");
        if (type == null || !type.startsWith("application/grpc")) {
            throw failure(Reason.ERROR, "answered content type " + clean(String.valueOf(type))
                    + ", not gRPC", null);
        }
    }

    /** The stream's last header block: its gRPC status decides between the message and a failure. */
    private byte[] finish(List<HpackDecoder.Field> trailers) throws KubeletFailure {
        String status = value(trailers, "grpc-status");
        int code;
        try {
            code = Integer.parseInt(String.valueOf(status));
        } catch (NumberFormatException e) {
            throw failure(Reason.ERROR, "ended the call without a gRPC status", null);
        }
        if (code != 0) {
            String name = code > 0 && code < CODES.length ? CODES[code] : "status " + code;
            String description = clean(percentDecoded(String.valueOf(value(trailers, "grpc-message"))));
            Reason reason = switch (code) {
                case 4 -> Reason.DEADLINE;
                case 8 -> Reason.TOO_LARGE;
                case 14 -> Reason.UNAVAILABLE;
                default -> Reason.ERROR;
            };
            throw new KubeletFailure(reason, code, "kubelet at " + socket + ": " + name
                    + (description.equals("null") ? "" : " (" + description + ")"), null);
        }
        if (message == null || messageRead < message.length) {
            throw failure(Reason.ERROR, "ended the call with status OK but no whole answer", null);
        }
        return message;
    }

    /** The DATA frame's octets go into the answer; its window is refilled once half of it is taken in. */
    private void data(int flags, int length, int payload) throws IOException, KubeletFailure {
        int at = payload;
        int padding = 0;
        if ((flags & PADDED) != 0) {
            if (length == 0) {
                throw new ProtocolException("a padded DATA frame without its pad length");
            }
            padding = buffer[at++] & 0xff;
        }
        int octets = payload + length - padding - at;
        if (octets < 0) {
            throw new ProtocolException("a DATA frame shorter than its padding");
        }
        while (octets > 0) {
            if (prefixRead < prefix.length) {
                int n = Math.min(octets, prefix.length - prefixRead);
                System.arraycopy(buffer, at, prefix, prefixRead, n);
                prefixRead += n;
                at += n;
                octets -= n;
                if (prefixRead == prefix.length) {
                    message = newMessage();
                }
            } else if (messageRead < message.length) {
                int n = Math.min(octets, message.length - messageRead);
                System.arraycopy(buffer, at, message, messageRead, n);
                messageRead += n;
                at += n;
                octets -= n;
            } else {
                throw failure(Reason.ERROR, "sent more than one message for a call that has one answer", null);
            }
        }
        unacknowledged += length;
        if (unacknowledged >= WINDOW / 2) {
            control(windowUpdate(0, unacknowledged), windowUpdate(STREAM, unacknowledged));
            unacknowledged = 0;
        }
    }

    private byte[] newMessage() throws KubeletFailure {
        if (prefix[0] != 0) {   // we offered no compression (no grpc-accept-encoding)
            throw failure(Reason.ERROR, "sent a compressed or malformed message (flag " + prefix[0] + ")", null);
        }
        long length = ByteBuffer.wrap(prefix, 1, 4).getInt() & 0xffffffffL;
        if (length > maxAnswerBytes) {
            throw failure(Reason.TOO_LARGE, "answered " + length + " bytes, over the limit of " + maxAnswerBytes
                    + " (gpu-agent.kubelet.max-answer-bytes)", null);
        }
        return new byte[(int) length];
    }

    // The socket.

    /** Makes buffer[start, start + n) hold read octets, reading within the deadline. */
    private void fill(int n) throws IOException, KubeletFailure {
        if (end - start >= n) {
            return;
        }
        if (start > 0) {
            System.arraycopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        while (end < n) {
            readInto.limit(buffer.length).position(end);
            int read = channel.read(readInto);
            if (read < 0) {
                throw failure(Reason.UNAVAILABLE, "closed the connection before the call ended", null);
            }
            if (read == 0) {
                await();
            }
            end += read;
        }
    }

    private void write(byte[]... chunks) throws IOException, KubeletFailure {
        SelectionKey key = channel.keyFor(selector);
        for (byte[] chunk : chunks) {
            ByteBuffer out = ByteBuffer.wrap(chunk);
            while (out.hasRemaining()) {
                if (channel.write(out) == 0) {
                    key.interestOps(SelectionKey.OP_WRITE);
                    await();
                    key.interestOps(SelectionKey.OP_READ);
                }
            }
        }
    }

    /**
     * Writes frames whose failed write ends nothing by itself: the request, acknowledgements, window updates. A
     * peer that has closed its side may have sent an answer or a refusal first, so what is left to read decides, and
     * a peer that sent nothing whole fails there (end of stream: UNAVAILABLE).
     */
    private void control(byte[]... frames) throws KubeletFailure {
        if (peerClosed) {
            return;
        }
        try {
            write(frames);
        } catch (IOException e) {
            peerClosed = true;
        }
    }

    /** Waits for the socket until the deadline. */
    private void await() throws IOException, KubeletFailure {
        if (Thread.currentThread().isInterrupted()) {   // select would return at once, again and again
            throw new java.io.InterruptedIOException("interrupted");
        }
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw failure(Reason.DEADLINE, "gave no answer within " + timeoutMillis + " ms", null);
        }
        selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
        selector.selectedKeys().clear();
    }

    private static byte[] frame(int type, int flags, int stream, byte[] payload) {
        return ByteBuffer.allocate(9 + payload.length)
                .put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length)
                .put((byte) type).put((byte) flags).putInt(stream).put(payload).array();
    }

    private static byte[] windowUpdate(int stream, int increment) {
        return frame(WINDOW_UPDATE, 0, stream, ByteBuffer.allocate(4).putInt(increment).array());
    }

    private static String value(List<HpackDecoder.Field> fields, String name) {
        for (HpackDecoder.Field field : fields) {
            if (field.name().equals(name)) {
                return field.value();
            }
        }
        return null;
    }

    /** grpc-message is percent-encoded UTF-8. */
    private static String percentDecoded(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%' && i + 2 < text.length() && Character.digit(text.charAt(i + 1), 16) >= 0
                    && Character.digit(text.charAt(i + 2), 16) >= 0) {
                out.write(Integer.parseInt(text, i + 1, i + 3, 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Peer text bound for a log line: shortened, control characters blanked. */
    private static String clean(String text) {
        String shorter = text.length() > MAX_DESCRIPTION ? text.substring(0, MAX_DESCRIPTION) + "..." : text;
        return shorter.replaceAll("\\p{Cntrl}", " ");
    }

    private KubeletFailure failure(Reason reason, String what, Throwable cause) {
        return new KubeletFailure(reason, "kubelet at " + socket + ": " + what, cause);
    }
}
