package io.gpuagent.agent.journal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The line format of a {@link JsonlJournal}: one JSON object per line, ending in a CRC32C of that JSON as a
 * last field, {@code "crc":"<8 hex digits>"}, and the newline. The CRC sits inside the object so every line
 * stays plain JSON that {@code jq} and older readers accept; lines written before there was one carry none
 * and are read without a check.
 */
final class JournalLine {

    /** Read size for {@link #scan}: big enough that most lines lie within one read. */
    static final int CHUNK = 64 * 1024;
    private static final byte[] CRC_FIELD = ",\"crc\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final int CRC_SUFFIX = CRC_FIELD.length + 8 + 2;

    /** Receives each complete line, without its newline; {@code lineNo} counts from 1. */
    @FunctionalInterface
    interface Sink {
        void line(byte[] buf, int off, int len, long lineNo) throws IOException;
    }

    /** What {@link #scan} found: the offset just past the last newline, and how many lines end before it. */
    record Scan(long end, long lines) {
    }

    private JournalLine() {
    }

    /** {@code json} (an object) with its CRC field appended, and the newline. */
    static byte[] encode(byte[] json) {
        if (json.length < 3 || json[json.length - 1] != '}') {
            byte[] plain = Arrays.copyOf(json, json.length + 1);   // nothing to sign: an empty object
            plain[json.length] = '\n';
            return plain;
        }
        byte[] tail = (crc(json) + "\"}\n").getBytes(StandardCharsets.US_ASCII);
        byte[] line = Arrays.copyOf(json, json.length - 1 + CRC_FIELD.length + tail.length);
        System.arraycopy(CRC_FIELD, 0, line, json.length - 1, CRC_FIELD.length);
        System.arraycopy(tail, 0, line, json.length - 1 + CRC_FIELD.length, tail.length);
        return line;
    }

    /**
     * The line's JSON without its CRC field once the CRC matches; null for a line written without one (older
     * versions). Throws on a mismatch.
     */
    static byte[] checked(byte[] buf, int off, int len) throws IOException {
        int body = len - CRC_SUFFIX;   // ,"crc":"xxxxxxxx"}
        if (body < 1 || buf[off + len - 1] != '}' || buf[off + len - 2] != '"'
                || !Arrays.equals(buf, off + body, off + body + CRC_FIELD.length, CRC_FIELD, 0, CRC_FIELD.length)) {
            return null;
        }
        byte[] json = new byte[body + 1];
        System.arraycopy(buf, off, json, 0, body);
        json[body] = '}';
        String stored = new String(buf, off + body + CRC_FIELD.length, 8, StandardCharsets.US_ASCII);
        String actual = crc(json);
        if (!stored.equals(actual)) {
            throw new IOException("CRC32C " + stored + " recorded, " + actual + " computed");
        }
        return json;
    }

    /**
     * {@link #checked} without the copy: true once the line's CRC matches, false for a line without one. The JSON
     * is the line up to its CRC field, then the closing brace; the line as it is stays plain JSON (the CRC one more
     * field), so a reader may parse it where it lies.
     */
    static boolean verify(byte[] buf, int off, int len) throws IOException {
        int body = len - CRC_SUFFIX;
        if (body < 1 || buf[off + len - 1] != '}' || buf[off + len - 2] != '"'
                || !Arrays.equals(buf, off + body, off + body + CRC_FIELD.length, CRC_FIELD, 0, CRC_FIELD.length)) {
            return false;
        }
        CRC32C crc = new CRC32C();
        crc.update(buf, off, body);
        crc.update('}');
        long actual = crc.getValue();
        long stored = 0;
        int hex = off + body + CRC_FIELD.length;
        for (int i = hex; i < hex + 8; i++) {
            int d = Character.digit(buf[i], 16);
            if (d < 0) {
                stored = -1;
                break;
            }
            stored = stored << 4 | d;
        }
        if (stored != actual) {
            throw new IOException("CRC32C " + new String(buf, hex, 8, StandardCharsets.US_ASCII) + " recorded, "
                    + String.format("%08x", actual) + " computed");
        }
        return true;
    }

    private static String crc(byte[] json) {
        CRC32C crc = new CRC32C();
        crc.update(json);
        return String.format("%08x", crc.getValue());
    }

    static boolean blank(byte[] buf, int off, int len) {
        for (int i = off; i < off + len; i++) {
            byte b = buf[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /**
     * Hands every complete line from the start of {@code raf} to {@code sink}, in chunks so a large file never
     * sits in memory whole; a line across two chunks is joined first. A last line without its newline is not
     * handed on: {@link Scan#end} stops before it.
     */
    static Scan scan(RandomAccessFile raf, Sink sink) throws IOException {
        raf.seek(0);
        byte[] buf = new byte[CHUNK];
        ByteArrayOutputStream partial = new ByteArrayOutputStream();
        long offset = 0;
        long lineNo = 0;
        int n;
        while ((n = raf.read(buf)) > 0) {
            int start = 0;
            for (int i = 0; i < n; i++) {
                if (buf[i] != '\n') {
                    continue;
                }
                lineNo++;
                if (partial.size() == 0) {
                    sink.line(buf, start, i - start, lineNo);
                } else {
                    partial.write(buf, start, i - start);
                    byte[] line = partial.toByteArray();
                    partial.reset();
                    sink.line(line, 0, line.length, lineNo);
                }
                start = i + 1;
            }
            partial.write(buf, start, n - start);
            offset += n;
        }
        return new Scan(offset - partial.size(), lineNo);
    }
}
