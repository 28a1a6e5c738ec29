package io.gpuagent.agent.kubelet;

import java.net.ProtocolException;

/**
 * HPACK's Huffman code (RFC 7541, Appendix B), decoding only. The code is canonical: within one length the codes
 * run in symbol order, each length's first code following the last of the shorter ones. So the 257 code lengths
 * alone define it, and the decoder is built from them (tests decode the RFC's examples).
 */
final class HpackHuffman {

    private static final int EOS = 256;
    private static final int LONGEST = 30;

    /** The code length of each octet and of EOS (the last), in bits: Appendix B's "len in bits" column. */
    private static final byte[] LENGTHS = {
            13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
            28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
            6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
            5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
            13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
            15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
            6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
            20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
            24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
            22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
            21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
            26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
            19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
            20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
            26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
            30,
    };

    /** The first code of each length; how many codes have it; where its symbols start in {@link #SYMBOLS}. */
    private static final int[] FIRST = new int[LONGEST + 1];
    private static final int[] COUNT = new int[LONGEST + 1];
    private static final int[] START = new int[LONGEST + 1];
    /** The symbols ordered by code length, then by value: the canonical order of their codes. */
    private static final int[] SYMBOLS = new int[EOS + 1];

    static {
        for (byte length : LENGTHS) {
            COUNT[length]++;
        }
        int code = 0;
        int index = 0;
        for (int length = 1; length <= LONGEST; length++) {
            FIRST[length] = code;
            START[length] = index;
            index += COUNT[length];
            code = (code + COUNT[length]) << 1;
        }
        int[] next = START.clone();
        for (int symbol = 0; symbol <= EOS; symbol++) {
            SYMBOLS[next[LENGTHS[symbol]]++] = symbol;
        }
    }

    private HpackHuffman() {
    }

    /**
     * The octets {@code in[offset, offset + length)} decode to, as Latin-1 characters. Refuses EOS inside the
     * string and padding that is longer than 7 bits or not the most significant bits of EOS (all ones), as the
     * RFC requires of a decoder.
     */
    static String decode(byte[] in, int offset, int length) throws ProtocolException {
        StringBuilder out = new StringBuilder(length * 8 / 5 + 1);
        int code = 0;
        int bits = 0;
        for (int i = offset; i < offset + length; i++) {
            int octet = in[i] & 0xff;
            for (int bit = 7; bit >= 0; bit--) {
                code = (code << 1) | ((octet >>> bit) & 1);
                bits++;
                int rank = code - FIRST[bits];
                if (rank >= 0 && rank < COUNT[bits]) {
                    int symbol = SYMBOLS[START[bits] + rank];
                    if (symbol == EOS) {
                        throw new ProtocolException("HPACK: EOS inside a Huffman-coded string");
                    }
                    out.append((char) symbol);
                    code = 0;
                    bits = 0;
                } else if (bits == LONGEST) {
                    throw new ProtocolException("HPACK: no Huffman code matches");
                }
            }
        }
        if (bits > 7 || code != (1 << bits) - 1) {
            throw new ProtocolException("HPACK: a Huffman-coded string ends in bad padding");
        }
        return out.toString();
    }
}
