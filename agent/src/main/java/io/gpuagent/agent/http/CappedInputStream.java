package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import jakarta.ws.rs.WebApplicationException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body that may not pass {@code limit} bytes: the read that would go past it fails with 413, so no
 * more than {@code limit + 1} bytes are ever taken in, whatever the sender declared (chunked bodies have no
 * length to check beforehand).
 */
final class CappedInputStream extends FilterInputStream {

    private final int limit;
    private long read;

    CappedInputStream(InputStream in, int limit) {
        super(in);
        this.limit = limit;
    }

    /** The 413 answer for a body over {@code limit} bytes. */
    static WebApplicationException tooLarge(int limit) {
        return new WebApplicationException(Problem.response(413, "Content Too Large", "the body is larger than this "
                + "endpoint takes (" + limit + " bytes); send a smaller one"));
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            count(1);
        }
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, (int) Math.min(len, limit + 1L - read));
        if (n > 0) {
            count(n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long s = super.skip(Math.min(n, limit + 1L - read));
        count(s);
        return s;
    }

    private void count(long n) {
        read += n;
        if (read > limit) {
            throw tooLarge(limit);
        }
    }
}
