package io.gpuagent.agent.kubernetes;

/** Bounds for what the agent writes into Kubernetes objects. */
final class Text {

    /** A condition's or Event's message: long enough for several GPUs and their reasons, short in kubectl. */
    static final int MESSAGE_MAX = 1024;

    private Text() {
    }

    /** {@code s} cut to {@code max} characters, marked with an ellipsis when cut. */
    static String bounded(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
