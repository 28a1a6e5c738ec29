package io.gpuagent.dcgm.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpuagent.nvml.fake.FakeNvml;
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
 * The DCGM downcalls and the policy upcall registered for a native image, in their own reachability-metadata.json:
 * held to exactly what {@link DcgmFunctions} binds. To rewrite it after changing the table:
 * {@code ./mvnw -pl native-bindings test -Dtest=DcgmForeignConfigTest -Dforeign.config.write=true}.
 */
class DcgmForeignConfigTest {

    static final Path FILE = Path.of(
            "src/main/resources/META-INF/native-image/io.gpuagent/native-bindings-dcgm/reachability-metadata.json");

    @Test
    void everyBoundDescriptorAndTheUpcallAreRegistered() throws IOException {
        List<FunctionDescriptor> bound = new DcgmFunctions(FakeNvml.DCGM_LIBRARY.toString()).bound().stream()
                .map(DcgmFunctions.Bound::descriptor).toList();
        String expected = render(bound, DcgmFunctions.POLICY_CALLBACK);
        if (Boolean.getBoolean("foreign.config.write")) {
            Files.writeString(FILE, expected, StandardCharsets.UTF_8);
        }
        assertEquals(expected, Files.readString(FILE, StandardCharsets.UTF_8),
                FILE + " is not what DcgmFunctions binds; rewrite it with -Dforeign.config.write=true");
    }

    private static String render(List<FunctionDescriptor> downcalls, FunctionDescriptor upcall) {
        Set<String> entries = new LinkedHashSet<>();
        for (FunctionDescriptor d : downcalls) {
            entries.add(entry(d));
        }
        return "{\n  \"comment\": \"FFM downcalls and the policy upcall of io.gpuagent.dcgm.ffm (DcgmFunctions); kept equal to it"
                + " by DcgmForeignConfigTest\",\n  \"foreign\": {\n    \"downcalls\": [\n" + String.join(",\n", entries)
                + "\n    ],\n    \"upcalls\": [\n" + entry(upcall) + "\n    ]\n  }\n}\n";
    }

    private static String entry(FunctionDescriptor d) {
        List<String> params = new ArrayList<>();
        for (MemoryLayout p : d.argumentLayouts()) {
            params.add('"' + canonical(p) + '"');
        }
        String ret = d.returnLayout().map(DcgmForeignConfigTest::canonical).orElse("void");
        return "      {\"returnType\": \"" + ret + "\", \"parameterTypes\": [" + String.join(", ", params) + "]}";
    }

    private static String canonical(MemoryLayout layout) {
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
            if (c == double.class) {
                return "jdouble";
            }
        }
        throw new IllegalArgumentException("no canonical name for " + layout + ": extend this test");
    }
}
