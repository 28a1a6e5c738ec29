package io.gpuagent.agent.kubernetes;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An RFC 6902 JSON Patch of one object, starting with a {@code test} of the resourceVersion the change was
 * computed from: if anyone changed the object since it was read, the API server applies nothing and answers
 * 409 or 422, and the caller reads it again. That is read-modify-write without the {@code update} verb, and a
 * list the agent rewrites (taints, conditions) never loses an entry someone else added meanwhile.
 */
final class JsonPatch {

    private final List<Map<String, Object>> ops = new ArrayList<>();

    private JsonPatch() {
    }

    /** A patch that applies only to the object as read ({@code metadata.resourceVersion}). */
    static JsonPatch of(ObjectMeta read) {
        JsonPatch p = new JsonPatch();
        p.op("test", "/metadata/resourceVersion", read.getResourceVersion());
        return p;
    }

    /** Sets a member (creating or replacing it). */
    JsonPatch set(String path, Object value) {
        return op("add", path, value);
    }

    JsonPatch remove(String path) {
        Map<String, Object> op = new LinkedHashMap<>();
        op.put("op", "remove");
        op.put("path", path);
        ops.add(op);
        return this;
    }

    /** Sets annotation {@code key} on an object whose annotations are {@code current} (null: none yet). */
    JsonPatch annotate(Map<String, String> current, String key, String value) {
        return current == null ? set("/metadata/annotations", Map.of(key, value))
                : set("/metadata/annotations/" + escape(key), value);
    }

    /** Removes annotation {@code key} if {@code current} has it. */
    JsonPatch unannotate(Map<String, String> current, String key) {
        return current != null && current.containsKey(key) ? remove("/metadata/annotations/" + escape(key)) : this;
    }

    List<Map<String, Object>> ops() {
        return List.copyOf(ops);
    }

    /** A JSON Pointer token: '~' and '/' escaped (annotation keys contain '/'). */
    static String escape(String token) {
        return token.replace("~", "~0").replace("/", "~1");
    }

    private JsonPatch op(String op, String path, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        m.put("path", path);
        m.put("value", value);
        ops.add(m);
        return this;
    }
}
