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
    /** The optional allow-list: names (subject, CN or DNS name) and SPKI SHA-256 pins; both empty: any signed. */
    private final Set<String> names;
    private final Set<String> pins;
    private final RefusalLog refusals = new RefusalLog(System::nanoTime, LOG::warn);

    public ClientCertificateAuth(TlsConfig config) {
        this.anchors = config.coordinatorClientCa().filter(l -> !l.isEmpty()).map(ClientCertificateAuth::load);
        this.names = Set.copyOf(config.coordinatorClientNames().orElse(List.of()).stream().map(String::strip)
                .filter(n -> !n.isEmpty()).toList());
        this.pins = Set.copyOf(config.coordinatorClientPins().orElse(List.of()).stream().map(String::strip)
                .map(p -> p.startsWith("sha256/") ? p.substring("sha256/".length()) : p).filter(p -> !p.isEmpty())
                .toList());
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
                    + "(%s)%s", anchors.get().size(), KEY, names.isEmpty() && pins.isEmpty() ? "; any certificate they "
                    + "signed is taken for the coordinator: if that CA signs more than coordinators, set "
                    + "gpu-agent.tls.coordinator-client-names or coordinator-client-pins"
                    : " and named in gpu-agent.tls.coordinator-client-names (" + names.size() + ") or pinned in "
                    + "coordinator-client-pins (" + pins.size() + ")");
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
                        return allowed(x);
                    }
                    break;   // the chain reached a configured CA
                }
                path.add(x);
            }
            PKIXParameters params = new PKIXParameters(anchors.get());
            params.setRevocationEnabled(false);   // a private CA for a handful of coordinators has no CRL service
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
            return allowed(path.getFirst());
        } catch (GeneralSecurityException | ClassCastException e) {
            LOG.debugf("a client certificate does not chain to %s: %s", KEY, e.getMessage());
            return false;
        }
    }

    /** Whether the allow-list (if any) names or pins this signed certificate. */
    boolean allowed(X509Certificate leaf) {
        if (names.isEmpty() && pins.isEmpty()) {
            return true;
        }
        if (!pins.isEmpty() && pins.contains(pin(leaf))) {
            return true;
        }
        if (!names.isEmpty() && namesOf(leaf).stream().anyMatch(names::contains)) {
            return true;
        }
        refusals.warn(RefusalLog.Kind.CLIENT_CERTIFICATE, "refused a client certificate the CA signed: "
                + leaf.getSubjectX500Principal().getName() + " (pin sha256/" + pin(leaf) + ") is in neither "
                + "gpu-agent.tls.coordinator-client-names nor coordinator-client-pins; add it there if it is a coordinator");
        return false;
    }

    /** The base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as in {@code sha256/...} pins. */
    static String pin(X509Certificate c) {
        try {
            return java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(c.getPublicKey().getEncoded()));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /** The subject (RFC 2253), its CN values and the certificate's DNS names. */
    static Set<String> namesOf(X509Certificate c) {
        Set<String> out = new HashSet<>();
        String subject = c.getSubjectX500Principal().getName();
        out.add(subject);
        try {
            for (javax.naming.ldap.Rdn rdn : new javax.naming.ldap.LdapName(subject).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    out.add(String.valueOf(rdn.getValue()));
                }
            }
        } catch (javax.naming.InvalidNameException e) {
            // the subject alone is still compared
        }
        try {
            if (c.getSubjectAlternativeNames() != null) {
                for (List<?> san : c.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {   // dNSName
                        out.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            // no names to add
        }
        return out;
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
