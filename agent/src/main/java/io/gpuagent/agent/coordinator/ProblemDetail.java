package io.gpuagent.agent.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** The sentence to log or pass on from another node's error answer: its problem+json detail, else its body. */
final class ProblemDetail {

    private ProblemDetail() {
    }

    /** The body's {@code detail}, or the body itself (at most {@code maxChars}) when it is not problem+json. */
    static String of(ObjectMapper mapper, String body, int maxChars) {
        try {
            JsonNode json = mapper.readTree(body);
            if (json != null && json.hasNonNull("detail")) {
                return json.get("detail").asText();
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: the body is the best we have
        }
        String b = body == null ? "" : body.strip();
        return b.isEmpty() ? "(no detail)" : b.length() > maxChars ? b.substring(0, maxChars) + "..." : b;
    }
}
