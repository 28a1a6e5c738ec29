package io.gpuagent.agent.auth;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jboss.logging.Logger;

/**
 * The HTTP clients this process calls other nodes with: plain HTTP as configured, HTTPS trusting the CA
 * certificates in {@code gpu-agent.tls.trust-certificates} (else the JVM's trust store). Host names are
 * checked as usual: a certificate must name the host in the URL.
 */
@ApplicationScoped
public class OutgoingTls {

    private static final Logger LOG = Logger.getLogger(OutgoingTls.class);

    private final Optional<SSLContext> context;

    public OutgoingTls(TlsConfig config) {
        this.context = config.trustCertificates().filter(l -> !l.isEmpty()).map(OutgoingTls::trusting);
    }

    /** A client with this connect timeout and the configured trust. */
    public HttpClient client(Duration connectTimeout) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(connectTimeout);
        context.ifPresent(b::sslContext);
        return b.build();
    }

    /** An SSL context that trusts exactly the certificates in these PEM files. */
    static SSLContext trusting(List<Path> files) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            CertificateFactory x509 = CertificateFactory.getInstance("X.509");
            int n = 0;
            for (Path f : files) {
                try (InputStream in = Files.newInputStream(f)) {
                    for (Certificate c : x509.generateCertificates(in)) {
                        store.setCertificateEntry("ca-" + n++, c);
                    }
                }
            }
            if (n == 0) {
                throw new IllegalStateException("gpu-agent.tls.trust-certificates " + files + " holds no certificate; "
                        + "give PEM files with the CA certificate(s) that signed the other nodes' certificates");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            LOG.infof("outgoing HTTPS trusts %d certificate(s) from %s (gpu-agent.tls.trust-certificates)", n, files);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read gpu-agent.tls.trust-certificates " + files + " (" + e
                    + "); give readable PEM files with the CA certificate(s)", e);
        }
    }
}
