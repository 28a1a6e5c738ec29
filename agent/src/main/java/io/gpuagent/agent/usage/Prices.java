package io.gpuagent.agent.usage;

import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The prices in force: energy per kWh and a GPU-hour rate per GPU model, in one currency.
 *
 * @param gpuHour rate by GPU model name; {@code default} for models not listed
 */
public record Prices(String currency, BigDecimal energyPerKwh, Map<String, BigDecimal> gpuHour) {

    public Prices {
        if (currency == null || currency.isBlank()) {
            throw new IllegalArgumentException("gpu-agent.cost.currency must not be empty");
        }
        check("energy-price", energyPerKwh);
        gpuHour.forEach((model, rate) -> check("gpu-hour." + model, rate));
        gpuHour = Map.copyOf(gpuHour);
    }

    private static void check(String key, BigDecimal value) {
        if (value == null || value.signum() < 0) {
            throw new IllegalArgumentException("gpu-agent.cost." + key + " must be a number >= 0, got " + value);
        }
    }

    static Prices of(CostConfig config) {
        return new Prices(config.currency().strip(), config.energyPrice(), config.gpuHour());
    }

    /** The GPU-hour rate of a model: its own, else {@code default}, else 0. */
    BigDecimal gpuHourRate(String model) {
        BigDecimal rate = gpuHour.get(model);
        if (rate == null) {
            rate = gpuHour.getOrDefault("default", BigDecimal.ZERO);
        }
        return rate;
    }

    /**
     * Reads a prices file ({@link CostConfig#pricesFile()}): {@code currency}, {@code energy-price} and
     * {@code gpu-hour.<model>}; anything else is refused, so that a misspelt key is not silently free.
     */
    static Prices read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        Map<String, BigDecimal> rates = new TreeMap<>();
        String currency = "USD";
        BigDecimal energy = BigDecimal.ZERO;
        for (String key : p.stringPropertyNames()) {
            String value = p.getProperty(key).strip();
            try {
                if (key.equals("currency")) {
                    currency = value;
                } else if (key.equals("energy-price")) {
                    energy = new BigDecimal(value);
                } else if (key.startsWith("gpu-hour.") && key.length() > "gpu-hour.".length()) {
                    rates.put(unquote(key.substring("gpu-hour.".length())), new BigDecimal(value));
                } else {
                    throw new IllegalArgumentException(file + ": unknown key '" + key + "'; the keys are currency, "
                            + "energy-price and gpu-hour.<model>");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": " + key + " must be a decimal number, got '" + value + "'");
            }
        }
        return new Prices(currency, energy, rates);
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }
}
