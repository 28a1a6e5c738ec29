package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.ws.rs.WebApplicationException;
import java.util.Collection;
import java.util.Iterator;

/**
 * Every JSON body the API takes refuses a field it does not know, with the same 400 wording: a misspelt
 * {@code "reson"} or {@code "ttlSecond"} is a client bug to report, not to ignore. The lease request (read by
 * Jackson with {@code FAIL_ON_UNKNOWN_PROPERTIES}) words its refusal through {@link #unknown}; the bodies read
 * as a tree (operator reasons, placements) check theirs with {@link #onlyKnown}.
 */
final class JsonFields {

    private JsonFields() {
    }

    /** 400 for the first field of {@code object} not in {@code known}; {@code prefix} names a nested object. */
    static void onlyKnown(JsonNode object, Collection<String> known, String prefix) {
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                throw unknown(prefix + f, known.stream().sorted().map(k -> prefix + k).toList());
            }
        }
    }

    static WebApplicationException unknown(String field, Collection<String> known) {
        return IdForms.bad("unknown field \"" + IdForms.abbreviate(field) + "\"; the fields are "
                + String.join(", ", known));
    }
}
