/**
 * Apache Kafka's broker jars for the embedded broker, resolved from Maven Central by Maven itself
 * (`local/kafka/pom.xml`) and cached in `.cache/kafka-<version>/`. Maven is run through the Maven
 * Wrapper (`local/kafka/mvnw`, https://maven.apache.org/tools/wrapper/), which fetches the pinned
 * Maven once into ~/.m2/wrapper with curl, wget or the JDK itself, so nothing beyond a JDK needs
 * installing. The first start downloads (through Maven's own cache in ~/.m2); later starts find the
 * cache complete and download nothing. The cache
 * is keyed by a hash of pom.xml and the launcher source, so bumping the Kafka version refreshes it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '..', '..');
const POM = join(here, 'pom.xml');
const MVNW = join(here, process.platform === 'win32' ? 'mvnw.cmd' : 'mvnw');
const LAUNCHER_SOURCE = join(here, 'java', 'ParentWatch.java');
export const LOG4J_CONFIG = join(here, 'log4j2.properties');

/** The Java toolchain or Maven is missing or too old. */
export class KafkaToolchainError extends Error {
  override readonly name = 'KafkaToolchainError';
}

export interface KafkaDistribution {
  readonly version: string;
  /** Directory holding the broker's jars. */
  readonly libsDir: string;
  /** Directory holding the compiled `ParentWatch` launcher. */
  readonly launcherDir: string;
  /** The java executable to run the broker with. */
  readonly java: string;
  /** Whether this call had to resolve the jars (false when the cache was complete). */
  readonly fetched: boolean;
}

/** The Kafka version pinned in pom.xml. */
async function kafkaVersion(): Promise<string> {
  const pom = await readFile(POM, 'utf8');
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!match?.[1]) throw new Error(`${POM} has no <kafka.version> property`);
  return match[1];
}

function javaHomeBin(tool: string): string {
  const home = process.env.JAVA_HOME;
  if (home) {
    const candidate = join(home, 'bin', process.platform === 'win32' ? `${tool}.exe` : tool);
    if (existsSync(candidate)) return candidate;
  }
  return tool;
}

/**
 * Checks that a JDK 17 or newer is present (Kafka 4 needs Java 17) and returns its `java`.
 * @public test/integration/embedded-kafka.test.ts calls it in a child process without java on PATH.
 */
export async function requireJdk(): Promise<{ java: string; javac: string; major: number }> {
  const java = javaHomeBin('java');
  const javac = javaHomeBin('javac');
  let versionText: string;
  try {
    // `java -version` prints to stderr.
    const { stderr } = await run(java, ['-version']);
    versionText = stderr;
  } catch {
    throw new KafkaToolchainError(
      'No Java runtime found. The embedded Kafka broker needs a JDK 17 or newer: install one (for example ' +
        'the "openjdk-17-jdk" package, or Temurin 17/21) and put it on PATH or set JAVA_HOME. ' +
        'Alternatively, set KAFKA_BROKERS to use a Kafka cluster you already run.',
    );
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionText);
  const first = Number(match?.[1] ?? 0);
  const major = first === 1 ? Number(match?.[2] ?? 0) : first;
  if (major < 17) {
    throw new KafkaToolchainError(
      `Java ${major || 'of unknown version'} found at "${java}", but Apache Kafka 4 needs Java 17 or newer. ` +
        'Install a JDK 17+ and put it first on PATH or set JAVA_HOME.',
    );
  }
  try {
    await run(javac, ['-version']);
  } catch {
    throw new KafkaToolchainError(
      `"${java}" is a Java ${major} runtime without the compiler (javac). Install the full JDK, not only the JRE.`,
    );
  }
  return { java, javac, major };
}

async function cacheKey(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(POM));
  hash.update(await readFile(LAUNCHER_SOURCE));
  return hash.digest('hex').slice(0, 16);
}

/** Where the jars are cached: `$KAFKA_CACHE_DIR`, else `.cache/` in the project. */
function cacheRoot(): string {
  return process.env.KAFKA_CACHE_DIR ?? join(projectRoot, '.cache');
}

/**
 * Returns the cached Kafka distribution, resolving it first if the cache is missing or stale.
 * @param log receives progress lines (resolution takes a while the first time).
 */
export async function ensureKafka(log: (line: string) => void = () => {}): Promise<KafkaDistribution> {
  const { java, javac } = await requireJdk();
  const version = await kafkaVersion();
  const key = await cacheKey();
  const home = join(cacheRoot(), `kafka-${version}`);
  const libsDir = join(home, 'libs');
  const launcherDir = join(home, 'launcher');
  const marker = join(home, 'complete');
  if (existsSync(marker) && (await readFile(marker, 'utf8')).trim() === key) {
    return { version, libsDir, launcherDir, java, fetched: false };
  }

  log(`resolving Apache Kafka ${version} jars with Maven (first run only)...`);
  const mvn = MVNW;
  try {
    await run(mvn, ['-v'], { timeout: 300_000 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new KafkaToolchainError(
      `the Maven Wrapper (${mvn}) could not fetch Maven from Maven Central, needed once to fetch Apache Kafka ${version} into ${home}: ` +
        `${(e.stderr || e.stdout || e.message).trim().slice(-1000)}. Check the network (proxy settings), or set KAFKA_BROKERS to use an existing cluster.`,
    );
  }
  await rm(home, { recursive: true, force: true });
  await mkdir(home, { recursive: true });
  const staging = join(home, 'libs.partial');
  try {
    await run(
      mvn,
      [
        '-B',
        '-q',
        '-f',
        POM,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${staging}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new KafkaToolchainError(
      `Maven could not fetch Apache Kafka ${version}: ${(e.stdout || e.stderr || e.message).trim().slice(-2000)}`,
    );
  }
  const jars = (await readdir(staging)).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith(`kafka_2.13-${version}`))) {
    throw new KafkaToolchainError(`Maven finished but ${staging} holds no kafka_2.13-${version}.jar`);
  }
  await rename(staging, libsDir);
  await mkdir(launcherDir, { recursive: true });
  try {
    await run(javac, ['--release', '17', '-d', launcherDir, LAUNCHER_SOURCE]);
  } catch (error) {
    throw new KafkaToolchainError(`javac could not compile ${LAUNCHER_SOURCE}: ${(error as Error).message}`);
  }
  await writeFile(marker, `${key}\n`);
  log(`cached ${jars.length} jars in ${libsDir}`);
  return { version, libsDir, launcherDir, java, fetched: true };
}
