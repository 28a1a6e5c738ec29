package io.gpuagent.exporter;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte buffer for exposition text, reused from scrape to scrape by one thread: the bytes of
 * {@link #array()} up to {@link #length()} are the text written since the last {@link #reset()}.
 */
public final class TextBytes {

    private static final byte[] NAN = "NaN".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] POSITIVE_INFINITY = "+Inf".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NEGATIVE_INFINITY = "-Inf".getBytes(StandardCharsets.US_ASCII);

    private byte[] bytes;
    private int length;

    public TextBytes(int initialCapacity) {
        bytes = new byte[Math.max(16, initialCapacity)];
    }

    public void reset() {
        length = 0;
    }

    public byte[] array() {
        return bytes;
    }

    public int length() {
        return length;
    }

    /** A copy of the bytes written from {@code from} on. */
    byte[] copy(int from) {
        return Arrays.copyOfRange(bytes, from, length);
    }

    @Override
    public String toString() {
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    void append(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
    }

    void append(byte b) {
        ensure(1);
        bytes[length++] = b;
    }

    /** Text that is ASCII by construction (numbers, Java's double forms). */
    private void appendAscii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            bytes[length++] = (byte) s.charAt(i);
        }
    }

    void append(long v) {
        if (v == Long.MIN_VALUE) {
            appendAscii(Long.toString(v));
            return;
        }
        ensure(20);
        if (v < 0) {
            bytes[length++] = '-';
            v = -v;
        }
        int end = length + digits(v);
        for (int i = end - 1; i >= length; i--) {
            bytes[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        length = end;
    }

    /**
     * A value as the Prometheus clients under Micrometer write it ({@code Double.toString}, with {@code +Inf},
     * {@code -Inf} and {@code NaN}); whole numbers below 10^7, which is most of them, without a String.
     */
    void appendDouble(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7 && (v != 0 || 1 / v > 0)) {
            append((long) v);
            ensure(2);
            bytes[length++] = '.';
            bytes[length++] = '0';
        } else if (Double.isNaN(v)) {
            append(NAN);
        } else if (Double.isInfinite(v)) {
            append(v > 0 ? POSITIVE_INFINITY : NEGATIVE_INFINITY);
        } else {
            appendAscii(Double.toString(v));
        }
    }

    private static int digits(long v) {
        int n = 1;
        while (v >= 10) {
            v /= 10;
            n++;
        }
        return n;
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
