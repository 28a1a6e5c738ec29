package io.gpuagent.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.OneLine;
import io.gpuagent.agent.http.problem.Problem;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import jakarta.ws.rs.WebApplicationException;
import java.util.List;

/**
 * What an operator's POST says about itself: the optional body {@code {"reason": "..."}} of the GPU actions
 * and the health clear, and the caller's address. The reason goes into the event and audit logs, so it is
 * kept to one line of at most {@link #MAX_LENGTH} characters ({@link OneLine}).
 */
final class OperatorReason {

    static final int MAX_LENGTH = 500;

    private OperatorReason() {
    }

    /**
     * The body's {@code reason}, or {@code fallback} when the body, the field or its text is empty; 400 for a
     * body that is not such an object. {@code example} is a reason shown in the error ("fan replaced").
     */
    static String parse(ObjectMapper mapper, String body, String fallback, String example) {
        if (body == null || body.isBlank()) {
            return fallback;
        }
        String shape = "the body must be empty or a JSON object such as {\"reason\": \"" + example + "\"}";
        JsonNode json;
        try {
            json = mapper.readTree(body);
        } catch (JsonProcessingException e) {
            throw bad(shape + ": " + e.getOriginalMessage());
        }
        if (json == null || !json.isObject()) {
            throw bad(shape);
        }
        JsonFields.onlyKnown(json, List.of("reason"), "");
        JsonNode reason = json.get("reason");
        if (reason == null || reason.isNull()) {
            return fallback;
        }
        if (!reason.isTextual()) {
            throw bad("\"reason\" must be a string");
        }
        String text = OneLine.of(reason.asText(), MAX_LENGTH);
        return text.isEmpty() ? fallback : text;
    }

    /** The caller's IP address, for the audit log; {@code unknown} when Vert.x does not say. */
    static String remote(HttpServerRequest request) {
        SocketAddress a = request == null ? null : request.remoteAddress();
        return a == null ? "unknown" : a.hostAddress() != null ? a.hostAddress() : a.toString();
    }

    private static WebApplicationException bad(String detail) {
        return new WebApplicationException(Problem.badRequest(detail));
    }
}
