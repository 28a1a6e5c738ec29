package io.gpuagent.nvml.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.ffm.Layouts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Our MemoryLayouts against what a C compiler computes from NVIDIA's headers. */
class LayoutCheckTest {

    private static final Map<String, LayoutCheck.Struct> OURS = LayoutCheck.parse(LayoutCheck.render(Layouts.all()));

    @Test
    void everyBoundStructMatchesTheNvml13Header() throws IOException {
        Map<String, LayoutCheck.Struct> golden = LayoutCheck.parse(resource("/golden/layout_13.3.txt"));
        assertEquals(List.of(), LayoutCheck.missingFrom(golden, OURS), "structs the 13.3 golden does not know");
        assertEquals(List.of(), LayoutCheck.compare(golden, OURS));
    }

    @Test
    void everyStructDebiansHeaderDeclaresMatchesIt() throws Exception {
        RealNvml.assumePresent();
        Path exe = Path.of("target/nvml_layout");
        RealNvml.run("cc", "-std=gnu11", "-Wall", "-Werror", "-Wno-deprecated-declarations", "-I" + RealNvml.INCLUDE,
                "tools/nvml_layout.c", "-o", exe.toString());
        String compiler = RealNvml.run(exe.toString());
        Map<String, LayoutCheck.Struct> header = LayoutCheck.parse(compiler);
        assertTrue(header.size() >= 14, "the layout program printed too few structs:\n" + compiler);
        assertEquals(List.of(), LayoutCheck.compare(header, OURS));
        // Structs newer than Debian's 11.8 header are covered by the 13.3 golden above.
        assertEquals(List.of("nvmlProcessDetail_v1_t", "nvmlTemperature_v1_t", "nvmlPowerValue_v2_t", "nvmlGpuFabricInfo_t",
                        "nvmlGpuFabricInfo_v3_t").stream().sorted().toList(),
                LayoutCheck.missingFrom(header, OURS).stream().sorted().toList());
        assertEquals(macro(compiler, "nvmlMemory_v2"), Layouts.MEMORY_V2_VERSION);
        assertEquals(macro(compiler, "nvmlGpuInstanceProfileInfo_v2"), Layouts.GPU_INSTANCE_PROFILE_INFO_V2_VERSION);
    }

    @Test
    void versionConstantsMatchTheGoldenMacros() throws IOException {
        String golden = resource("/golden/layout_13.3.txt");
        assertEquals(macro(golden, "nvmlMemory_v2"), Layouts.MEMORY_V2_VERSION);
        assertEquals(macro(golden, "nvmlTemperature_v1"), Layouts.TEMPERATURE_V1_VERSION);
        assertEquals(macro(golden, "nvmlPowerValue_v2"), Layouts.POWER_VALUE_V2_VERSION);
        assertEquals(macro(golden, "nvmlGpuFabricInfo_v3"), Layouts.GPU_FABRIC_INFO_V3_VERSION);
        assertEquals(macro(golden, "nvmlGpuInstanceProfileInfo_v2"), Layouts.GPU_INSTANCE_PROFILE_INFO_V2_VERSION);
    }

    @Test
    void aWrongLayoutIsReported() {
        Map<String, LayoutCheck.Struct> c = LayoutCheck.parse("""
                struct nvmlMemory_v2_t sizeof=40 alignof=8
                   version                      off=0 size=4
                   total                        off=8 size=8
                   reserved                     off=16 size=8
                   free                         off=24 size=8
                   used                         off=32 size=8
                """);
        Map<String, LayoutCheck.Struct> java = LayoutCheck.parse("""
                struct nvmlMemory_v2_t sizeof=36 alignof=4
                   version                      off=0 size=4
                   total                        off=4 size=8
                   free                         off=20 size=8
                   used                         off=28 size=8
                """);
        List<String> problems = LayoutCheck.compare(c, java);
        assertTrue(problems.contains("nvmlMemory_v2_t: sizeof is 36 in Java, 40 in C"), problems.toString());
        assertTrue(problems.contains("nvmlMemory_v2_t.total: offset 4 in Java, 8 in C"), problems.toString());
        assertTrue(problems.contains("nvmlMemory_v2_t.reserved: member missing (or named differently) in Java"), problems.toString());
    }

    private static int macro(String golden, String name) {
        Matcher m = Pattern.compile("version macro " + name + " = 0x([0-9A-F]+)").matcher(golden);
        assertTrue(m.find(), name);
        return Integer.parseUnsignedInt(m.group(1), 16);
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = LayoutCheckTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
