package io.gpuagent.agent.auth;

import io.quarkus.runtime.StartupEvent;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * The coordinator's client certificate as its credential on an agent, instead of the bearer token: with
 * {@code gpu-agent.tls.coordinator-client-ca} set, a request to a coordinator endpoint (leases) that carries no
 * {@code Authorization} header is accepted when its TLS client certificate chains to one of those CA
 * certificates (checked here with PKIX against exactly them, whatever else Quarkus' trust store holds; a file
 * may also hold the coordinator's own certificate, which then is trusted as it is). The certificate grants the
 * coordinator role and nothing else. Quarkus asks for a client certificate only with
 * {@code quarkus.http.ssl.client-auth=request} (or {@code required}); the start log says when that is missing.
 */
@ApplicationScoped
public class ClientCertificateAuth {

    private static final Logger LOG = Logger.getLogger(ClientCertificateAuth.class);
    static final String KEY = "gpu-agent.tls.coordinator-client-ca";

    private final Optional<Set<TrustAnchor>> anchors;

    public ClientCertificateAuth(TlsConfig config) {
        this.anchors = config.coordinatorClientCa().filter(l -> !l.isEmpty()).map(ClientCertificateAuth::load);
    }

    void logConfiguration(@Observes StartupEvent event) {
        if (anchors.isEmpty()) {
            return;
        }
        String mode = ConfigProvider.getConfig().getOptionalValue("quarkus.http.ssl.client-auth", String.class)
                .orElse("none").toLowerCase(Locale.ROOT);
        if (mode.equals("none")) {
            LOG.warnf("%s is set but HTTPS does not ask for client certificates, so the coordinator still needs its "
                    + "bearer token: set quarkus.http.ssl.client-auth=request and quarkus.tls.trust-store.pem.certs to "
                    + "the same CA file (docs/security.md)", KEY);
        } else {
            LOG.infof("the coordinator may authenticate with a TLS client certificate signed by %d CA certificate(s) "
                    + "(%s)", anchors.get().size(), KEY);
        }
    }

    /** Whether this request came over TLS with a client certificate that chains to a configured CA. */
    public boolean coordinator(HttpServerRequest request) {
        if (anchors.isEmpty() || request == null || !request.isSSL()) {
            return false;
        }
        SSLSession session = request.sslSession();
        if (session == null) {
            return false;
        }
        try {
            return verifies(session.getPeerCertificates());
        } catch (SSLPeerUnverifiedException e) {
            return false;   // no client certificate: the bearer token decides
        }
    }

    boolean verifies(Certificate[] chain) {
        if (anchors.isEmpty() || chain == null || chain.length == 0) {
            return false;
        }
        try {
            List<X509Certificate> path = new ArrayList<>();
            for (Certificate c : chain) {
                X509Certificate x = (X509Certificate) c;
                if (anchors.get().stream().anyMatch(a -> a.getTrustedCert().equals(x))) {
                    if (path.isEmpty()) {   // the client's own certificate is configured: trusted as it is
                        x.checkValidity();
                        return true;
                    }
                    break;   // the chain reached a configured CA
                }
                path.add(x);
            }
            PKIXParameters params = new PKIXParameters(anchors.get());
            params.setRevocationEnabled(false);   // a private CA for a handful of coordinators has no CRL service
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
            return true;
        } catch (GeneralSecurityException | ClassCastException e) {
            LOG.debugf("a client certificate does not chain to %s: %s", KEY, e.getMessage());
            return false;
        }
    }

    private static Set<TrustAnchor> load(List<Path> files) {
        Set<TrustAnchor> out = new HashSet<>();
        try {
            CertificateFactory x509 = CertificateFactory.getInstance("X.509");
            for (Path f : files) {
                try (InputStream in = Files.newInputStream(f)) {
                    for (Certificate c : x509.generateCertificates(in)) {
                        out.add(new TrustAnchor((X509Certificate) c, null));
                    }
                }
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read " + KEY + " " + files + " (" + e + "); give readable PEM files "
                    + "with the CA certificate(s) that signed the coordinator's client certificate", e);
        }
        if (out.isEmpty()) {
            throw new IllegalStateException(KEY + " " + files + " holds no certificate; give PEM files with the CA "
                    + "certificate(s) that signed the coordinator's client certificate");
        }
        return Set.copyOf(out);
    }
}
