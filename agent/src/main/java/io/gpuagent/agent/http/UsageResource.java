package io.gpuagent.agent.http;

import io.gpuagent.agent.usage.UsageLedger;
import io.gpuagent.agent.usage.UsageReport;
import io.gpuagent.agent.usage.UsageTotals;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.UriInfo;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code GET /v1/usage?since=&until=&job=&limit=}: the usage of the leases that overlap {@code [since, until)}
 * (each with its whole totals), oldest grant first, and their sum (docs/usage.md). Times are ISO-8601 with a zone;
 * {@code job} a job id; {@code limit} 1..10000 (default 1000). Anything malformed answers 400.
 */
@Path("/v1/usage")
@Produces(MediaType.APPLICATION_JSON)
public class UsageResource {

    static final int MAX_LIMIT = 10_000;
    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9._:@/-]{1,128}");

    private final UsageLedger ledger;

    public UsageResource(UsageLedger ledger) {
        this.ledger = ledger;
    }

    /**
     * The answer: the leases, and totals over them ({@code cost} only when they share one currency).
     *
     * @param truncated more leases matched than {@code limit}: narrow the window or page with {@code since}
     */
    public record UsagePage(Instant since, Instant until, String job, List<UsageReport> leases, UsageTotals totals,
                            boolean truncated) {
    }

    @GET
    public UsagePage list(@Context UriInfo uri) {
        MultivaluedMap<String, String> params = uri.getQueryParameters();
        Instant since = time(params, "since");
        Instant until = time(params, "until");
        if (since != null && until != null && !since.isBefore(until)) {
            throw IdForms.bad("since (" + since + ") must be before until (" + until + ")");
        }
        String job = one(params, "job");
        if (job != null && !JOB_ID.matcher(job).matches()) {
            throw IdForms.bad("job must be a job id: 1-128 characters of A-Z a-z 0-9 . _ : @ / -, got '"
                    + IdForms.abbreviate(job) + "'");
        }
        String rawLimit = one(params, "limit");
        int limit = 1000;
        if (rawLimit != null) {
            Long n = IdForms.number(rawLimit, 5);
            if (n == null || n < 1 || n > MAX_LIMIT) {
                throw IdForms.bad("limit must be a whole number from 1 to " + MAX_LIMIT + " in plain decimal (default "
                        + "1000), got '" + IdForms.abbreviate(rawLimit) + "'");
            }
            limit = n.intValue();
        }
        List<UsageReport> found = ledger.reports(since, until, job, limit + 1);
        boolean truncated = found.size() > limit;
        List<UsageReport> page = found.subList(0, Math.min(limit, found.size())).stream()
                .map(UsageReport::summary).toList();
        return new UsagePage(since, until, job, page, UsageTotals.of(page), truncated);
    }

    private static String one(MultivaluedMap<String, String> params, String name) {
        List<String> values = params.get(name);
        if (values == null) {
            return null;
        }
        if (values.size() > 1) {
            throw IdForms.bad(name + " may be given once, got it " + values.size() + " times");
        }
        String v = values.getFirst();
        if (v == null || v.isEmpty()) {
            throw IdForms.bad(name + " was given without a value; leave it out or give one");
        }
        return v;
    }

    private static Instant time(MultivaluedMap<String, String> params, String name) {
        String raw = one(params, name);
        if (raw == null) {
            return null;
        }
        try {
            return EventsResource.Query.parseTime(raw);
        } catch (WebApplicationException e) {
            throw IdForms.bad(name + " must be an ISO-8601 time with a zone (e.g. 2025-01-31T12:00:00Z or "
                    + "2025-01-31T13:00:00%2B01:00), got '" + IdForms.abbreviate(raw) + "'");
        }
    }
}
