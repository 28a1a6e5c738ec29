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
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
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
        Optional<List<Path>> trust = config.trustCertificates().filter(l -> !l.isEmpty());
        if (config.clientCertificate().isPresent() != config.clientKey().isPresent()) {
            throw new IllegalStateException("gpu-agent.tls.client-certificate and gpu-agent.tls.client-key go together: "
                    + "set both (the PEM certificate and its PKCS#8 PEM key) or neither");
        }
        if (config.clientCertificate().isEmpty()) {
            this.context = trust.map(OutgoingTls::trusting);
        } else {
            this.context = Optional.of(context(trust, config.clientCertificate().get(), config.clientKey().get()));
        }
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
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, trustManagers(files), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up outgoing HTTPS: " + e, e);
        }
    }

    /**
     * An SSL context that presents the client certificate in {@code certificate} with {@code key} when a server
     * asks, and trusts {@code trust} (else the JVM's trust store).
     */
    static SSLContext context(Optional<List<Path>> trust, Path certificate, Path key) {
        try {
            List<Certificate> chain = new ArrayList<>();
            try (InputStream in = Files.newInputStream(certificate)) {
                chain.addAll(CertificateFactory.getInstance("X.509").generateCertificates(in));
            }
            if (chain.isEmpty()) {
                throw new IllegalStateException("gpu-agent.tls.client-certificate " + certificate + " holds no certificate");
            }
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            char[] none = new char[0];
            keys.setKeyEntry("client", privateKey(key), none, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, none);
            TrustManager[] trusted;
            if (trust.isPresent()) {
                trusted = trustManagers(trust.get());
            } else {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init((KeyStore) null);
                trusted = tmf.getTrustManagers();
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), trusted, null);
            LOG.infof("outgoing HTTPS presents the client certificate %s when asked (gpu-agent.tls.client-certificate)",
                    ((X509Certificate) chain.getFirst()).getSubjectX500Principal().getName());
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read gpu-agent.tls.client-certificate " + certificate + " or "
                    + "gpu-agent.tls.client-key " + key + " (" + e + "); give a PEM certificate and its unencrypted "
                    + "PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----)", e);
        }
    }

    /** An unencrypted PKCS#8 PEM key, EC, RSA or Ed25519. */
    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new InvalidKeySpecException(file + " is not an unencrypted PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----); "
                    + "convert it with: openssl pkcs8 -topk8 -nocrypt -in <key> -out " + file);
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        GeneralSecurityException last = null;
        for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    private static TrustManager[] trustManagers(List<Path> files) {
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
            LOG.infof("outgoing HTTPS trusts %d certificate(s) from %s (gpu-agent.tls.trust-certificates)", n, files);
            return tmf.getTrustManagers();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read gpu-agent.tls.trust-certificates " + files + " (" + e
                    + "); give readable PEM files with the CA certificate(s)", e);
        }
    }
}
