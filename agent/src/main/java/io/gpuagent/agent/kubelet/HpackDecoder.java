package io.gpuagent.agent.kubelet;

import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The HPACK decoder (RFC 7541) of one HTTP/2 connection: the static table, the dynamic table the peer's encoder
 * fills, every field representation and Huffman-coded strings. What a peer can make it hold is bounded: the
 * dynamic table by the size this side allows (the protocol's default, 4096 octets, as we never announce another),
 * a header list by {@code maxListSize} (counted as the RFC counts table entries), and each string by the block.
 */
final class HpackDecoder {

    /** One header field, name and value as the octets came (Latin-1). */
    record Field(String name, String value) {
        int size() {
            return name.length() + value.length() + 32;   // RFC 7541 section 4.1
        }
    }

    /** Appendix A. */
    private static final Field[] STATIC = fields(
            ":authority", "", ":method", "GET", ":method", "POST", ":path", "/", ":path", "/index.html",
            ":scheme", "http", ":scheme", "https", ":status", "200", ":status", "204", ":status", "206",
            ":status", "304", ":status", "400", ":status", "404", ":status", "500", "accept-charset", "",
            "accept-encoding", "gzip, deflate", "accept-language", "", "accept-ranges", "", "accept", "",
            "access-control-allow-origin", "", "age", "", "allow", "", "authorization", "", "cache-control", "",
            "content-disposition", "", "content-encoding", "", "content-language", "", "content-length", "",
            "content-location", "", "content-range", "", "content-type", "", "cookie", "", "date", "", "etag", "",
            "expect", "", "expires", "", "from", "", "host", "", "if-match", "", "if-modified-since", "",
            "if-none-match", "", "if-range", "", "if-unmodified-since", "", "last-modified", "", "link", "",
            "location", "", "max-forwards", "", "proxy-authenticate", "", "proxy-authorization", "", "range", "",
            "referer", "", "refresh", "", "retry-after", "", "server", "", "set-cookie", "",
            "strict-transport-security", "", "transfer-encoding", "", "user-agent", "", "vary", "", "via", "",
            "www-authenticate", "");

    private final int allowedTableSize;
    private final List<Field> table = new ArrayList<>();   // oldest first: dynamic index 1 is the last
    private int tableSize;
    private int maxTableSize;

    /** A decoder whose peer may use a dynamic table of at most {@code allowedTableSize} octets. */
    HpackDecoder(int allowedTableSize) {
        this.allowedTableSize = allowedTableSize;
        this.maxTableSize = allowedTableSize;
    }

    /** The fields of one whole header block, in order; the dynamic table is updated as the block says. */
    List<Field> decode(byte[] block, int maxListSize) throws ProtocolException {
        List<Field> fields = new ArrayList<>();
        Reader in = new Reader(block);
        int listSize = 0;
        while (in.more()) {
            int first = in.peek();
            Field field;
            if ((first & 0x80) != 0) {                  // indexed field
                field = entry(in.integer(7));
            } else if ((first & 0xc0) == 0x40) {        // literal, added to the table
                field = literal(in, 6);
                add(field);
            } else if ((first & 0xe0) == 0x20) {        // dynamic table size update
                if (!fields.isEmpty()) {
                    throw new ProtocolException("HPACK: a table size update after a field");
                }
                int size = in.integer(5);
                if (size > allowedTableSize) {
                    throw new ProtocolException("HPACK: table size " + size + " over the " + allowedTableSize
                            + " allowed");
                }
                maxTableSize = size;
                evictTo(size);
                continue;
            } else {                                    // literal, not added (0000) or never indexed (0001)
                field = literal(in, 4);
            }
            listSize += field.size();
            if (listSize > maxListSize) {
                throw new ProtocolException("HPACK: a header list over " + maxListSize + " octets");
            }
            fields.add(field);
        }
        return fields;
    }

    private Field entry(int index) throws ProtocolException {
        if (index >= 1 && index <= STATIC.length) {
            return STATIC[index - 1];
        }
        int dynamic = index - STATIC.length;
        if (index == 0 || dynamic > table.size()) {
            throw new ProtocolException("HPACK: no table entry " + index);
        }
        return table.get(table.size() - dynamic);
    }

    private Field literal(Reader in, int prefix) throws ProtocolException {
        int nameIndex = in.integer(prefix);
        String name = nameIndex == 0 ? in.string() : entry(nameIndex).name();
        return new Field(name, in.string());
    }

    private void add(Field field) {
        int size = field.size();
        if (size > maxTableSize) {   // not an error: the entry empties the table and is not kept (section 4.4)
            table.clear();
            tableSize = 0;
            return;
        }
        evictTo(maxTableSize - size);
        table.add(field);
        tableSize += size;
    }

    private void evictTo(int size) {
        while (tableSize > size) {
            tableSize -= table.removeFirst().size();
        }
    }

    private static Field[] fields(String... namesAndValues) {
        Field[] out = new Field[namesAndValues.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = new Field(namesAndValues[2 * i], namesAndValues[2 * i + 1]);
        }
        return out;
    }

    /** Integers and strings of a block (section 5), never reading past its end. */
    private static final class Reader {
        private final byte[] block;
        private int at;

        Reader(byte[] block) {
            this.block = block;
        }

        boolean more() {
            return at < block.length;
        }

        int peek() {
            return block[at] & 0xff;
        }

        private int next() throws ProtocolException {
            if (at >= block.length) {
                throw new ProtocolException("HPACK: a header block ends inside a field");
            }
            return block[at++] & 0xff;
        }

        int integer(int prefix) throws ProtocolException {
            int mask = (1 << prefix) - 1;
            int value = next() & mask;
            if (value < mask) {
                return value;
            }
            for (int shift = 0; ; shift += 7) {
                int octet = next();
                if (shift > 21) {   // beyond 2^28: no block this side accepts holds such a length or index
                    throw new ProtocolException("HPACK: an integer too large");
                }
                value += (octet & 0x7f) << shift;
                if ((octet & 0x80) == 0) {
                    return value;
                }
            }
        }

        String string() throws ProtocolException {
            boolean huffman = at < block.length && (peek() & 0x80) != 0;
            int length = integer(7);
            if (length > block.length - at) {
                throw new ProtocolException("HPACK: a string of " + length + " octets runs past its block");
            }
            int start = at;
            at += length;
            return huffman ? HpackHuffman.decode(block, start, length)
                    : new String(block, start, length, StandardCharsets.ISO_8859_1);
        }
    }
}
