import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;

/**
 * Run as its own process by FaultInjectionPortSquatterIT (java Bind.java PORT): tries to listen on PORT on each
 * address, with and without SO_REUSEADDR and SO_REUSEPORT, and prints one line per try: ADDRESS REUSE BOUND|refused.
 */
public class Bind {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        for (String address : new String[] {"::", "::1", "0.0.0.0", "127.0.0.1"}) {
            for (boolean reuse : new boolean[] {false, true}) {
                try (ServerSocketChannel s = ServerSocketChannel.open()) {
                    s.setOption(StandardSocketOptions.SO_REUSEADDR, reuse);
                    s.setOption(StandardSocketOptions.SO_REUSEPORT, reuse);
                    s.bind(new InetSocketAddress(address, port));
                    System.out.println(address + " " + reuse + " BOUND");
                } catch (Exception e) {
                    System.out.println(address + " " + reuse + " refused " + e.getMessage());
                }
            }
        }
    }
}
