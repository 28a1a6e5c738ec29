package io.gpuagent.agent.host;

import java.util.Map;
import java.util.OptionalDouble;

/**
 * One InfiniBand or RoCE port as sysfs shows it ({@code class/infiniband/<device>/ports/<port>/}).
 *
 * @param state     {@code ACTIVE}, {@code DOWN}, {@code INIT}, {@code ARMED} (the word after "4: ")
 * @param physState {@code LinkUp}, {@code Disabled}, {@code Polling}, ...
 * @param rateGbps  the rate in Gb/s ({@code 400 Gb/sec (4X NDR)}); empty when unreadable
 * @param linkLayer {@code InfiniBand} or {@code Ethernet} (RoCE)
 * @param counters  the error counters read ({@code link_downed}, {@code symbol_error}, ...), absent ones left out
 */
public record IbPort(String device, int port, String state, String physState, OptionalDouble rateGbps,
                     String linkLayer, Map<String, Long> counters) {

    /** The counters the InfiniBand check reads. */
    public static final java.util.List<String> COUNTERS = java.util.List.of("link_downed", "symbol_error",
            "port_rcv_errors", "link_error_recovery");

    public IbPort {
        counters = Map.copyOf(counters);
    }

    /** {@code mlx5_0/1}. */
    public String name() {
        return device + '/' + port;
    }

    public boolean up() {
        return state.equals("ACTIVE") && physState.equals("LinkUp");
    }

    /** {@code "4: ACTIVE"} -> {@code ACTIVE}; {@code "5: LinkUp"} -> {@code LinkUp}; a bare word stays. */
    static String word(String sysfs) {
        String s = sysfs.strip();
        int colon = s.indexOf(':');
        return colon < 0 ? s : s.substring(colon + 1).strip();
    }

    /** {@code "400 Gb/sec (4X NDR)"} -> 400; {@code "2.5 Gb/sec (1X SDR)"} -> 2.5; empty when it is not a rate. */
    static OptionalDouble rate(String sysfs) {
        String s = sysfs.strip();
        int space = s.indexOf(' ');
        try {
            return OptionalDouble.of(Double.parseDouble(space < 0 ? s : s.substring(0, space)));
        } catch (NumberFormatException e) {
            return OptionalDouble.empty();
        }
    }
}
