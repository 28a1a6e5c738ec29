package io.gpuagent.agent.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A client refused in a loop writes one line per kind per minute, and the next line counts the rest. */
class RefusalLogTest {

    @Test
    void oneLinePerKindPerPeriodAndTheNextCountsWhatWasNotLogged() {
        AtomicLong now = new AtomicLong();
        List<String> lines = new ArrayList<>();
        RefusalLog log = new RefusalLog(now::get, lines::add);

        for (int i = 0; i < 10_000; i++) {
            log.warn(RefusalLog.Kind.FORBIDDEN, "refused " + i);
        }
        log.warn(RefusalLog.Kind.HEARTBEAT_WRONG_TOKEN, "wrong node token");
        assertEquals(List.of("refused 0", "wrong node token"), lines, "one line per kind");

        now.addAndGet(RefusalLog.PERIOD.toNanos());
        log.warn(RefusalLog.Kind.FORBIDDEN, "refused again");
        assertEquals(3, lines.size());
        assertTrue(lines.get(2).startsWith("refused again (9999 more refusals like it in the last 60 s were not logged)"),
                lines.get(2));

        now.addAndGet(RefusalLog.PERIOD.toNanos());
        log.warn(RefusalLog.Kind.FORBIDDEN, "quiet since");
        assertEquals("quiet since", lines.get(3), "nothing was suppressed in between");
    }
}
