import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

/**
 * The floor under the agent's /metrics latency: a bare Vert.x server (the version the agent ships) answering
 * every request with the same number of bytes, allocating a given amount of garbage per request, and nothing
 * else running in the JVM. Run by vertx-floor.sh: java VertxFloor.java PORT BODY_BYTES GARBAGE_BYTES
 */
public class VertxFloor {
    static volatile byte[] sink;

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        Buffer body = Buffer.buffer(new byte[Integer.parseInt(args[1])]);
        int garbage = Integer.parseInt(args[2]);
        Vertx.vertx().createHttpServer().requestHandler(r -> {
            if (garbage > 0) {
                sink = new byte[garbage];
            }
            r.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(body);
        }).listen(port, "127.0.0.1");
    }
}
