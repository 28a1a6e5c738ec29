package io.gpuagent.exporter;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** The names of DCGM's error codes ({@code dcgmError_t}, {@code DCGM_FR_*}), from DCGM 4.6.0's dcgm_errors.h. */
public final class DcgmErrors {
    private static final Map<Integer, String> NAMES = load();

    private DcgmErrors() {
    }

    /** {@code DCGM_FR_VOLATILE_DBE_DETECTED} for 4; {@code DCGM_FR_<n>} for a code the 4.6.0 header does not list. */
    public static String name(int code) {
        return NAMES.getOrDefault(code, "DCGM_FR_" + code);
    }

    private static Map<Integer, String> load() {
        Map<Integer, String> m = new HashMap<>();
        try (InputStream in = DcgmErrors.class.getResourceAsStream("dcgm-errors.txt")) {
            if (in == null) {
                throw new IllegalStateException("dcgm-errors.txt missing from the exporter jar");
            }
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#"))
                    .forEach(l -> {
                        String[] p = l.strip().split("\\s+");
                        m.putIfAbsent(Integer.parseInt(p[0]), p[1]);
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.copyOf(m);
    }
}
