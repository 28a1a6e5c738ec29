package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A native image (the agent's {@code -Pnative} build) can only make the downcalls whose descriptors were
 * registered at build time. The registration is the {@code foreign} section of this module's
 * reachability-metadata.json; this test holds it to exactly the descriptors the handle tables bind, so
 * a new binding cannot be forgotten there. To rewrite the file after changing a table:
 * {@code ./mvnw -pl native-bindings test -Dtest=ForeignConfigTest -Dforeign.config.write=true}.
 */
class ForeignConfigTest {

    static final Path FILE = Path.of("src/main/resources/META-INF/native-image/io.gpuagent/native-bindings/reachability-metadata.json");

    @Test
    void everyBoundDescriptorIsRegisteredForDowncalls() throws IOException {
        List<FunctionDescriptor> bound = NvmlLibrary.boundDescriptors();
        assertEquals(NvmlLibrary.boundSymbols().size(), bound.size(), "one descriptor per bound symbol");
        assertFalse(bound.isEmpty());
        String expected = render(bound);
        if (Boolean.getBoolean("foreign.config.write")) {
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, expected, StandardCharsets.UTF_8);
        }
        assertEquals(expected, Files.readString(FILE, StandardCharsets.UTF_8),
                FILE + " is not what the handle tables bind; rewrite it with -Dforeign.config.write=true");
    }

    /** The file: each distinct descriptor once, in the order the tables first bind it. */
    static String render(List<FunctionDescriptor> descriptors) {
        Set<String> entries = new LinkedHashSet<>();
        for (FunctionDescriptor d : descriptors) {
            List<String> params = new ArrayList<>();
            for (MemoryLayout p : d.argumentLayouts()) {
                params.add('"' + canonical(p) + '"');
            }
            String ret = d.returnLayout().map(ForeignConfigTest::canonical).orElse("void");
            entries.add("      {\"returnType\": \"" + ret + "\", \"parameterTypes\": [" + String.join(", ", params) + "]}");
        }
        return "{\n  \"comment\": \"FFM downcalls of io.gpuagent.nvml.ffm (NvmlLibrary.boundDescriptors()); kept equal to it by ForeignConfigTest\",\n"
                + "  \"foreign\": {\n    \"downcalls\": [\n" + String.join(",\n", entries) + "\n    ]\n  }\n}\n";
    }

    /** The canonical layout name (java.lang.foreign.Linker#canonicalLayouts) native-image expects. */
    static String canonical(MemoryLayout layout) {
        if (layout instanceof AddressLayout) {
            return "void*";
        }
        if (layout instanceof ValueLayout v) {
            Class<?> c = v.carrier();
            if (c == int.class) {
                return "jint";
            }
            if (c == long.class) {
                return "jlong";
            }
            if (c == short.class) {
                return "jshort";
            }
            if (c == byte.class) {
                return "jbyte";
            }
            if (c == double.class) {
                return "jdouble";
            }
            if (c == float.class) {
                return "jfloat";
            }
        }
        throw new IllegalArgumentException("no canonical name for " + layout + ": register it by hand and extend this test");
    }
}
