package io.gpuagent.agent.kubelet;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.gpuagent.agent.kubelet.KubeletFailure.Reason;
import io.gpuagent.agent.kubelet.podresources.AllocatableResourcesRequest;
import io.gpuagent.agent.kubelet.podresources.AllocatableResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesRequest;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * {@link PodResources} over the kubelet's unix socket: the {@code v1.PodResourcesLister} calls {@code List} and
 * {@code GetAllocatableResources} of the upstream proto, made by {@link UnixGrpcCall} (gRPC on the JDK alone, one connection per call) and parsed by the message
 * classes protoc generates from that proto. Each call has a deadline and a cap on the answer's size; an answer over
 * the cap is refused from its length, before it is received.
 *
 * <p>Not grpc-java: its shaded Netty, with the classes it loads and the epoll library it unpacks into a writable
 * and executable {@code java.io.tmpdir}, cost the agent 15-19 MB of resident memory for one small call every few
 * seconds (BENCHMARKS.md). The tests call a real grpc-java server.
 */
public final class GrpcPodResources implements PodResources {

    /** The method's path: the proto's package ({@code v1}), service and method. */
    static final String LIST = "/v1.PodResourcesLister/List";
    static final String ALLOCATABLE = "/v1.PodResourcesLister/GetAllocatableResources";

    private final Path socket;
    private final Duration deadline;
    private final int maxAnswerBytes;

    public GrpcPodResources(Path socket, Duration deadline, int maxAnswerBytes) {
        this.socket = Objects.requireNonNull(socket, "socket");
        this.deadline = Objects.requireNonNull(deadline, "deadline");
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("gpu-agent.kubelet.deadline must be positive, not " + deadline);
        }
        if (maxAnswerBytes <= 0) {
            throw new IllegalArgumentException("gpu-agent.kubelet.max-answer-bytes must be positive, not "
                    + maxAnswerBytes);
        }
        this.maxAnswerBytes = maxAnswerBytes;
    }

    @Override
    public ListPodResourcesResponse list() throws KubeletFailure {
        return call(LIST, ListPodResourcesRequest.getDefaultInstance(), ListPodResourcesResponse.parser(),
                "ListPodResourcesResponse");
    }

    @Override
    public AllocatableResourcesResponse allocatable() throws KubeletFailure {
        return call(ALLOCATABLE, AllocatableResourcesRequest.getDefaultInstance(),
                AllocatableResourcesResponse.parser(), "AllocatableResourcesResponse");
    }

    private <T> T call(String method, MessageLite request, Parser<T> answer, String answerName)
            throws KubeletFailure {
        byte[] bytes = UnixGrpcCall.call(socket, method, request.toByteArray(), deadline, maxAnswerBytes);
        try {
            return answer.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new KubeletFailure(Reason.ERROR, "kubelet at " + socket + ": an answer that is not a " + answerName
                    + " (" + e.getMessage() + ")", e);
        }
    }

    /** Nothing is held between calls. */
    @Override
    public void close() {
    }
}
