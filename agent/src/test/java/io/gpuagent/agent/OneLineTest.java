package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Every control, format and separator character leaves as a space; the length is bounded; the rest is kept. */
class OneLineTest {

    @ParameterizedTest(name = "U+{0}")
    @ValueSource(strings = {
            "0000", "0007", "0009", "000A", "000B", "000C", "000D", "001B", "001F", "007F",   // C0 and DEL
            "0080", "0085", "008D", "009B", "009F",                                             // C1 (NEL, CSI)
            "2028", "2029",                                                                     // line, paragraph separator
            "202A", "202B", "202C", "202D", "202E", "2066", "2067", "2068", "2069", "200E", "200F", "061C",   // bidi
            "200B", "200C", "200D", "2060", "FEFF", "00AD"})                                    // zero-width, BOM, soft hyphen
    void eachSuchCharacterBecomesASpace(String hex) {
        String c = Character.toString(Integer.parseInt(hex, 16));
        assertEquals("GPU 3 XID 79", OneLine.of("GPU 3" + c + "XID 79", 100));
        assertEquals("GPU 3 XID 79", OneLine.of(c + "GPU 3 " + c + c + " XID 79" + c, 100));
    }

    @Test
    void aLoneSurrogateIsRemovedAndAPairKept() {
        assertEquals("a b", OneLine.of("a\uD800b", 100));
        assertEquals("a \uD83D\uDE80 b", OneLine.of("a \uD83D\uDE80 b", 100));
    }

    @Test
    void ordinaryTextIsKeptAsItIs() {
        String text = "GPU 0 (GPU-8f1c) UNHEALTHY: XID 79 fallen off the bus; Überhitzung 95 °C, 温度";
        assertEquals(text, OneLine.of(text, 1000));
    }

    @Test
    void longTextIsCutWithAMarkAndNeverInsideASurrogatePair() {
        assertEquals("abcde...", OneLine.of("abcdefgh", 5));
        assertEquals("abcd...", OneLine.of("abcd\uD83D\uDE80", 5));
        assertEquals("abcdefgh", OneLine.of("abcdefgh", 8));
        String cut = OneLine.of("x".repeat(5000), 200);
        assertEquals(203, cut.length());
        assertTrue(cut.endsWith("..."));
    }

    @Test
    void nullStaysNull() {
        assertNull(OneLine.of(null, 10));
    }

    @Test
    void everyCodePointOfTheUnsafeCategoriesIsCaught() {
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            int type = Character.getType(cp);
            boolean unsafe = type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE;
            if (unsafe) {
                String out = OneLine.of("a" + Character.toString(cp) + "b", 10);
                assertEquals("a b", out, "U+" + Integer.toHexString(cp));
            }
        }
    }
}
