package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.store.InMemorySessionStore;
import dev.proxymanager.middleware.config.CidrBlock;

import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.clock.SystemClock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.server.proxy.tls.CertificateAuthority;
import dev.proxymanager.server.proxy.tls.TlsInterceptionSettings;
import dev.proxymanager.testsupport.proxy.Tinyproxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A real browser that cannot send proxy credentials: headless Chromium from a trusted client CIDR. */
class ChromiumThroughProxyTest {

    @TempDir
    Path dir;

    @Test
    void headlessChromiumLoadsPagesOverHttpAndHttpsThroughTheProxyPort() throws Exception {
        // given a proxy port trusting loopback clients, over a real upstream proxy, and a loopback site
        try (TestSite site = new TestSite(dir);
             Tinyproxy upstream = Tinyproxy.start("pm-chromium");
             ProxyManager manager = ProxyManager.builder().secrets(SecretsConfig.parse(
                             "{\"endpoints\":{\"browser\":{\"type\":\"proxy\",\"allowed_targets\":[\"127.0.0.1\"],\"secrets\":[{\"id\":\"pm-chromium\","
                                     + "\"value\":\"" + upstream.url() + "\"}]}}}", Map.of()))
                     .usageStore(new InMemoryUsageStore()).maxWait(Duration.ZERO).build();
             ForwardProxyServer proxy = new ForwardProxyServer("127.0.0.1", new ForwardProxySettings(0, null,
                     List.of(CidrBlock.parse("127.0.0.0/8")), "browser", Duration.ofMinutes(10)),
                     manager, SystemClock.INSTANCE, new SimpleMeterRegistry(),
                     Duration.ofSeconds(30), 1024 * 1024, 16).start()) {
            ChromeOptions options = new ChromeOptions();
            options.setBinary("/usr/bin/chromium");
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--user-data-dir=" + dir.resolve("profile").toAbsolutePath(),
                    "--proxy-server=http://127.0.0.1:" + proxy.port(),
                    // Chromium sends loopback direct unless told not to
                    "--proxy-bypass-list=<-loopback>", "--ignore-certificate-errors");
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
            ChromeDriver browser = new ChromeDriver(service, options);
            try {
                // when it loads a page over HTTP and one over HTTPS (a CONNECT tunnel)
                browser.get("http://127.0.0.1:" + site.httpPort() + "/page");
                String plain = browser.findElement(By.tagName("body")).getText();
                browser.get("https://127.0.0.1:" + site.httpsPort() + "/secure-page");
                String secure = browser.findElement(By.tagName("body")).getText();

                // then both came from the site, the plain one through the upstream proxy
                assertThat(plain).startsWith("site /page").contains("pm-chromium").contains("proxy-manager");
                assertThat(secure).startsWith("site /secure-page");
                assertThat(site.requests).anySatisfy(h -> assertThat(h.get(":path")).isEqualTo("/page"));
            } finally {
                browser.quit();
            }
        }
    }

    @Test
    void headlessChromiumTrustingTheCaByItsSpkiLoadsAnInterceptedHttpsPage() throws Exception {
        // given a proxy port intercepting TLS for endpoint "browser", whose upstream TLS trusts the site's certificate
        CertificateAuthority ca = CertificateAuthority.create("chromium test", java.time.Instant.now(), Duration.ofDays(2));
        Path caCert = ca.writeTo(dir.resolve("ca"));
        try (TestSite site = new TestSite(dir);
             Tinyproxy upstream = Tinyproxy.start("pm-chromium-tls");
             ProxyManager manager = ProxyManager.builder().secrets(SecretsConfig.parse(
                             "{\"endpoints\":{\"browser\":{\"type\":\"proxy\",\"allowed_targets\":[\"127.0.0.1\"],"
                                     + "\"secrets\":[{\"id\":\"pm-chromium-tls\","
                                     + "\"value\":\"" + upstream.url() + "\"}]}}}", Map.of()))
                     .usageStore(new InMemoryUsageStore()).maxWait(Duration.ZERO).build();
             ForwardProxyServer proxy = new ForwardProxyServer("127.0.0.1", new ForwardProxySettings(0, null,
                     List.of(CidrBlock.parse("127.0.0.0/8")), "browser",
                     Duration.ofMinutes(10)), new TlsInterceptionSettings(caCert,
                     caCert.resolveSibling(CertificateAuthority.KEY_FILE),
                     Map.of("browser", new TlsInterceptionSettings.EndpointRule(true, List.of())),
                     site.certificatePem(dir)), manager, SystemClock.INSTANCE, new SimpleMeterRegistry(),
                     Duration.ofSeconds(30), 1024 * 1024, 16, new InMemorySessionStore()).start()) {
            ChromeOptions options = new ChromeOptions();
            options.setBinary("/usr/bin/chromium");
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--user-data-dir=" + dir.resolve("profile-tls").toAbsolutePath(),
                    "--proxy-server=http://127.0.0.1:" + proxy.port(), "--proxy-bypass-list=<-loopback>",
                    // trusts exactly the CA's key, not every certificate
                    "--ignore-certificate-errors-spki-list=" + ca.spkiSha256());
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
            ChromeDriver browser = new ChromeDriver(service, options);
            try {
                // when it loads an HTTPS page
                browser.get("https://127.0.0.1:" + site.httpsPort() + "/intercepted-page");
                String secure = browser.findElement(By.tagName("body")).getText();

                // then the page came from the site through the proxy's own HTTP path (its Via is on the request)
                assertThat(secure).startsWith("site /intercepted-page").contains("proxy-manager");
            } finally {
                browser.quit();
            }
        }
    }
}
