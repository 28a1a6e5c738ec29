package io.gpuagent.agent.lease;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The alarm runs its task once per expiry it was told of, not while it has none, and stops when closed. */
class ExpiryAlarmTest {

    @Test
    void runsOnceWhenTheExpiryPassesAndNotWithoutOne() throws Exception {
        Semaphore ran = new Semaphore(0);
        try (ExpiryAlarm alarm = new ExpiryAlarm(Clock.systemUTC(), ran::release)) {
            assertFalse(ran.tryAcquire(300, TimeUnit.MILLISECONDS), "no expiry set: nothing runs");
            alarm.wakeAt(Instant.now().plusMillis(100));
            assertTrue(ran.tryAcquire(5, TimeUnit.SECONDS), "the task runs once the expiry has passed");
            assertFalse(ran.tryAcquire(300, TimeUnit.MILLISECONDS), "and once only, until told of another");
            alarm.wakeAt(Instant.now().minusSeconds(1));
            assertTrue(ran.tryAcquire(5, TimeUnit.SECONDS), "an expiry already past runs at once");
        }
    }

    @Test
    void anEarlierExpiryReplacesALaterOneAndNoneCancels() throws Exception {
        Semaphore ran = new Semaphore(0);
        try (ExpiryAlarm alarm = new ExpiryAlarm(Clock.systemUTC(), ran::release)) {
            alarm.wakeAt(Instant.now().plusSeconds(3600));
            alarm.wakeAt(Instant.now().plusMillis(100));
            assertTrue(ran.tryAcquire(5, TimeUnit.SECONDS), "the earlier expiry wakes it, not the hour");
            alarm.wakeAt(Instant.now().plusMillis(200));
            alarm.wakeAt(null);   // the last lease was released
            assertFalse(ran.tryAcquire(600, TimeUnit.MILLISECONDS), "cancelled");
        }
    }

    @Test
    void closeStopsTheThreadAndAFailingTaskDoesNotKillIt() throws Exception {
        Semaphore ran = new Semaphore(0);
        ExpiryAlarm alarm = new ExpiryAlarm(Clock.systemUTC(), () -> {
            ran.release();
            throw new IllegalStateException("journal failed");
        });
        alarm.wakeAt(Instant.now());
        assertTrue(ran.tryAcquire(5, TimeUnit.SECONDS));
        alarm.wakeAt(Instant.now());
        assertTrue(ran.tryAcquire(5, TimeUnit.SECONDS), "still alive after the task threw");
        alarm.close();
        alarm.wakeAt(Instant.now());
        assertFalse(ran.tryAcquire(500, TimeUnit.MILLISECONDS), "closed: nothing runs any more");
    }
}
