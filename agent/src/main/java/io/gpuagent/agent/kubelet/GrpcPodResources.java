package io.gpuagent.agent.kubelet;

import io.gpuagent.agent.kubelet.KubeletFailure.Reason;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesRequest;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.PodResourcesListerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * {@link PodResources} over the kubelet's unix socket with grpc-java (the shaded Netty's epoll transport, one
 * event-loop thread). Each call has a deadline and a cap on the answer's size; an answer over the cap is refused
 * by gRPC before it is parsed.
 *
 * <p>The channel is tied to the socket file it was opened on: when the kubelet restarts it makes a new socket
 * (a new inode), and the next call opens a new channel to it instead of waiting out gRPC's reconnect backoff on
 * the old one. A call that fails for any reason but size drops the channel for the same reason.
 */
public final class GrpcPodResources implements PodResources {

    /** The longest status description kept in a failure's message (it ends up in a log line). */
    private static final int MAX_DESCRIPTION = 200;

    private final Path socket;
    private final Duration deadline;
    private final int maxAnswerBytes;

    private EventLoopGroup loop;
    private ManagedChannel channel;
    private Object channelSocket;   // the socket file (device, inode, times) the channel was opened on

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
    public synchronized ListPodResourcesResponse list() throws KubeletFailure {
        Object key = socketKey();
        if (channel == null || !key.equals(channelSocket)) {
            dropChannel();
            open(key);
        }
        try {
            return PodResourcesListerGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS)
                    .withMaxInboundMessageSize(maxAnswerBytes)
                    .list(ListPodResourcesRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            Reason reason = switch (e.getStatus().getCode()) {
                case DEADLINE_EXCEEDED -> Reason.DEADLINE;
                case RESOURCE_EXHAUSTED -> Reason.TOO_LARGE;
                case UNAVAILABLE -> Reason.UNAVAILABLE;
                default -> Reason.ERROR;
            };
            if (reason != Reason.TOO_LARGE) {
                dropChannel();
            }
            throw new KubeletFailure(reason, describe(e), e);
        }
    }

    private Object socketKey() throws KubeletFailure {
        try {
            BasicFileAttributes attributes = Files.readAttributes(socket, BasicFileAttributes.class);
            // Device and inode, and the times: a file system may give a new socket the inode its predecessor had.
            return java.util.Arrays.asList(attributes.fileKey(), attributes.creationTime(),
                    attributes.lastModifiedTime());
        } catch (NoSuchFileException e) {
            throw new KubeletFailure(Reason.SOCKET_MISSING, "no socket at " + socket, e);
        } catch (IOException e) {
            throw new KubeletFailure(Reason.SOCKET_MISSING, "cannot look at " + socket + ": " + e, e);
        }
    }

    private void open(Object key) throws KubeletFailure {
        if (!Epoll.isAvailable()) {
            // The shaded Netty unpacks its epoll library into java.io.tmpdir; a tmpdir mounted noexec stops it.
            throw new KubeletFailure(Reason.ERROR, "the epoll transport a unix socket needs is unavailable ("
                    + Epoll.unavailabilityCause() + "); give the agent an executable java.io.tmpdir", null);
        }
        if (loop == null) {
            loop = new EpollEventLoopGroup(1, new DefaultThreadFactory("kubelet-grpc", true));
        }
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .eventLoopGroup(loop)
                .channelType(EpollDomainSocketChannel.class)
                .directExecutor()
                .usePlaintext()
                .maxInboundMessageSize(maxAnswerBytes)
                .build();
        channelSocket = key;
    }

    private void dropChannel() {
        if (channel != null) {
            channel.shutdownNow();
            channel = null;
            channelSocket = null;
        }
    }

    private String describe(StatusRuntimeException e) {
        String description = Objects.requireNonNullElse(e.getStatus().getDescription(), "");
        if (description.length() > MAX_DESCRIPTION) {
            description = description.substring(0, MAX_DESCRIPTION) + "...";
        }
        return "kubelet at " + socket + ": " + e.getStatus().getCode()
                + (description.isEmpty() ? "" : " (" + description.replaceAll("\\p{Cntrl}", " ") + ")");
    }

    @Override
    public synchronized void close() {
        dropChannel();
        if (loop != null) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            loop = null;
        }
    }
}
