package io.gpuagent.dcgm.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.check.LayoutCheck;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our DCGM layouts against what a C compiler computes from NVIDIA's DCGM headers: the goldens of DCGM 4.0.0 and
 * 4.6.0 (tools/dcgm_layout.c's output), and the goldens against a fresh compile of that tool on the vendored headers.
 */
class DcgmLayoutCheckTest {

    private static final Map<String, LayoutCheck.Struct> OURS = LayoutCheck.parse(LayoutCheck.render(DcgmLayouts.all()));

    @ParameterizedTest
    @CsvSource({
            "4.6.0, ''",
            "4.0.0, dcgmConnectV3Params_v1 dcgmRunDiag_v10 dcgmDiagTestRun_v2 dcgmDiagResponse_v12",
    })
    void everyBoundStructMatchesTheGolden(String version, String newer) throws IOException {
        Map<String, LayoutCheck.Struct> golden = LayoutCheck.parse(resource("/golden/dcgm_layout_" + version + ".txt"));
        assertEquals(newer.isEmpty() ? List.of() : List.of(newer.split(" ")), LayoutCheck.missingFrom(golden, OURS),
                "structs the " + version + " header does not declare");
        assertEquals(List.of(), LayoutCheck.compare(golden, OURS));
    }

    @ParameterizedTest
    @CsvSource({
            "4.6.0, dcgmStartEmbeddedV2Params_version1, dcgmConnectV2Params_version2, dcgmVersionInfo_version2, dcgmDeviceAttributes_version3, dcgmMigHierarchy_version2, dcgmFieldValue_version2, dcgmHealthSetParams_version2, dcgmHealthResponse_version5, dcgmPolicy_version1, dcgmPolicyCallbackResponse_version2, dcgmRunDiag_version9, dcgmDiagResponse_version11",
    })
    void versionWordsComputedFromTheLayoutsMatchTheHeaderMacros(String version, String a, String b, String c, String d,
            String e, String f, String g, String h, String i, String j, String k, String l) throws IOException {
        String golden = resource("/golden/dcgm_layout_" + version + ".txt");
        int[] ours = {DcgmLayouts.START_EMBEDDED_V1_VERSION, DcgmLayouts.CONNECT_V2_VERSION,
                DcgmLayouts.VERSION_INFO_V2_VERSION, DcgmLayouts.DEVICE_ATTRIBUTES_V3_VERSION,
                DcgmLayouts.MIG_HIERARCHY_V2_VERSION, DcgmLayouts.FIELD_VALUE_V2_VERSION,
                DcgmLayouts.HEALTH_SET_PARAMS_V2_VERSION, DcgmLayouts.HEALTH_RESPONSE_V5_VERSION,
                DcgmLayouts.POLICY_V1_VERSION, DcgmLayouts.POLICY_CALLBACK_RESPONSE_V2_VERSION,
                DcgmLayouts.RUN_DIAG_V9_VERSION, DcgmLayouts.DIAG_RESPONSE_V11_VERSION};
        String[] names = {a, b, c, d, e, f, g, h, i, j, k, l};
        for (int n = 0; n < names.length; n++) {
            assertEquals(macro(golden, names[n]), ours[n], names[n]);
        }
        assertEquals(macro(golden, "dcgmConnectV3Params_version1"), DcgmLayouts.CONNECT_V3_VERSION);
        assertEquals(macro(golden, "dcgmRunDiag_version10"), DcgmLayouts.RUN_DIAG_V10_VERSION);
        assertEquals(macro(golden, "dcgmDiagResponse_version12"), DcgmLayouts.DIAG_RESPONSE_V12_VERSION);
    }

    @ParameterizedTest
    @CsvSource({"4.6.0, include", "4.0.0, include-4.0"})
    void theGoldensAreWhatTheToolPrintsForTheVendoredHeaders(String version, String dir) throws Exception {
        Path exe = Path.of("target", "dcgm_layout_" + version).toAbsolutePath();
        run("cc", "-std=gnu11", "-Wall", "-Werror", "-Isrc/main/c/dcgm/" + dir, "tools/dcgm_layout.c", "-o", exe.toString());
        assertEquals(resource("/golden/dcgm_layout_" + version + ".txt"), run(exe.toString()));
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private static int macro(String golden, String name) {
        Matcher m = Pattern.compile("version macro " + name + " = 0x([0-9A-F]+)").matcher(golden);
        assertTrue(m.find(), name);
        return Integer.parseUnsignedInt(m.group(1), 16);
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = DcgmLayoutCheckTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
