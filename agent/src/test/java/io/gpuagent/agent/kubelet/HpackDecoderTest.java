package io.gpuagent.agent.kubelet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.kubelet.HpackDecoder.Field;
import java.net.ProtocolException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decoder against RFC 7541 Appendix C, whose examples exercise every representation and table eviction. */
class HpackDecoderTest {

    private static final int ANY = 1 << 20;

    private static byte[] hex(String text) {
        return HexFormat.of().parseHex(text.replace(" ", ""));
    }

    private static List<Field> fields(String... namesAndValues) {
        List<Field> out = new java.util.ArrayList<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            out.add(new Field(namesAndValues[i], namesAndValues[i + 1]));
        }
        return out;
    }

    private static final List<Field> REQUEST_1 = fields(":method", "GET", ":scheme", "http", ":path", "/",
            ":authority", "www.example.com");
    private static final List<Field> REQUEST_2 = fields(":method", "GET", ":scheme", "http", ":path", "/",
            ":authority", "www.example.com", "cache-control", "no-cache");
    private static final List<Field> REQUEST_3 = fields(":method", "GET", ":scheme", "https", ":path",
            "/index.html", ":authority", "www.example.com", "custom-key", "custom-value");

    @Test
    void requestsWithoutHuffmanC3() throws ProtocolException {
        HpackDecoder decoder = new HpackDecoder(4096);
        assertEquals(REQUEST_1, decoder.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"), ANY));
        assertEquals(REQUEST_2, decoder.decode(hex("8286 84be 5808 6e6f 2d63 6163 6865"), ANY));
        assertEquals(REQUEST_3, decoder.decode(hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d"
                + "7661 6c75 65"), ANY));
    }

    @Test
    void requestsWithHuffmanC4() throws ProtocolException {
        HpackDecoder decoder = new HpackDecoder(4096);
        assertEquals(REQUEST_1, decoder.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"), ANY));
        assertEquals(REQUEST_2, decoder.decode(hex("8286 84be 5886 a8eb 1064 9cbf"), ANY));
        assertEquals(REQUEST_3, decoder.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
                ANY));
    }

    private static final String DATE_1 = "Mon, 21 Oct 2013 20:13:21 GMT";
    private static final String DATE_2 = "Mon, 21 Oct 2013 20:13:22 GMT";
    private static final String URL = "https://www.example.com";
    private static final List<Field> RESPONSE_1 = fields(":status", "302", "cache-control", "private", "date", DATE_1,
            "location", URL);
    private static final List<Field> RESPONSE_2 = fields(":status", "307", "cache-control", "private", "date", DATE_1,
            "location", URL);
    private static final List<Field> RESPONSE_3 = fields(":status", "200", "cache-control", "private", "date", DATE_2,
            "location", URL, "content-encoding", "gzip", "set-cookie",
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1");

    /** A 256-octet table: the responses evict entries, and the later ones index what is left. */
    @Test
    void responsesWithEvictionC5AndC6() throws ProtocolException {
        HpackDecoder plain = new HpackDecoder(256);
        assertEquals(RESPONSE_1, plain.decode(hex("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63"
                + "7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65"
                + "2e63 6f6d"), ANY));
        assertEquals(RESPONSE_2, plain.decode(hex("4803 3330 37c1 c0bf"), ANY));
        assertEquals(RESPONSE_3, plain.decode(hex("88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133"
                + "3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541"
                + "5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"), ANY));

        HpackDecoder huffman = new HpackDecoder(256);
        assertEquals(RESPONSE_1, huffman.decode(hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504"
                + "0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"), ANY));
        assertEquals(RESPONSE_2, huffman.decode(hex("4883 640e ffc1 c0bf"), ANY));
        assertEquals(RESPONSE_3, huffman.decode(hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"
                + "c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587"
                + "3160 65c0 03ed 4ee5 b106 3d50 07"), ANY));
        // After C.6.3 the table holds set-cookie, content-encoding and date (215 octets): 62-64, then nothing.
        assertEquals(fields("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
                "content-encoding", "gzip", "date", DATE_2), huffman.decode(hex("be bf c0"), ANY));
        assertRefused("no table entry 65", huffman, "c1");
    }

    @Test
    void aTableSizeUpdateEvictsAndIsBoundedByWhatThisSideAllows() throws ProtocolException {
        HpackDecoder decoder = new HpackDecoder(256);
        decoder.decode(hex("4803 3330 3258 0770 7269 7661 7465"), ANY);   // :status 302, cache-control private
        assertEquals(fields("cache-control", "private"), decoder.decode(hex("be"), ANY));
        assertEquals(List.of(), decoder.decode(hex("20"), ANY));   // size 0: everything goes
        assertRefused("no table entry 62", decoder, "be");
        assertRefused("over the 256 allowed", decoder, "3fe2 01");   // 257
        assertRefused("after a field", decoder, "82 20");
    }

    @Test
    void malformedBlocksAreRefused() {
        assertRefused("no table entry 0", new HpackDecoder(4096), "80");
        assertRefused("ends inside a field", new HpackDecoder(4096), "40");
        assertRefused("runs past its block", new HpackDecoder(4096), "400a 6375 7374");
        assertRefused("integer too large", new HpackDecoder(4096), "ff ff ff ff ff 0f");
        // EOS (30 ones) inside a string; padding of zeros; padding of 8 ones (a whole octet).
        assertRefused("EOS inside", new HpackDecoder(4096), "0000 84ff ffff ff");
        assertRefused("bad padding", new HpackDecoder(4096), "0000 8100");
        assertRefused("bad padding", new HpackDecoder(4096), "0000 821f ff");
    }

    @Test
    void aHeaderListOverTheLimitIsRefused() throws ProtocolException {
        byte[] block = hex("400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65");   // 10 + 12 + 32 = 54
        assertEquals(1, new HpackDecoder(4096).decode(block, 54).size());
        ProtocolException e = assertThrows(ProtocolException.class, () -> new HpackDecoder(4096).decode(block, 53));
        assertTrue(e.getMessage().contains("over 53 octets"), e.getMessage());
    }

    @Test
    void huffmanCodesAtBothEndsOfTheTable() throws ProtocolException {
        // '0' is 00000 (5 bits) and NUL is 1111111111000 (13 bits), each padded with ones to a whole octet.
        assertEquals(List.of(new Field("0", "0")), new HpackDecoder(4096).decode(hex("0081 0781 07"), ANY));
        assertEquals("\0", HpackHuffman.decode(hex("ffc7"), 0, 2));
    }

    private static void assertRefused(String why, HpackDecoder decoder, String block) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> decoder.decode(hex(block), ANY));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }
}
