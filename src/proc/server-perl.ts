import { findOnPath } from "../tools/binary.js";

/**
 * The perl spawn server (issue 24): one long-lived perl that forks each job once and execs it, no
 * shell in between. perl core has no posix_spawn, so each job is a fork of perl (small: a few MB
 * of page tables, against ws's ~60 MB). The fall-back where python3 cannot be had (perl is
 * Essential in Debian), and `WS_SPAWN=perl`.
 *
 * Protocol (spawn-server.ts): a record `<id> <length>\n` then that many bytes of NUL-separated
 * fields. perl forks the job into a process group of its own, answers `S <id> <pid>` and, once
 * reaped, `E <id> <status>` (128+n for signal n). A job whose files cannot be opened, or whose
 * program cannot be executed, exits 126 / 127 in the child (perl cannot tell ws why).
 *
 * SIGCHLD wakes its select(); a signal that lands between perl's check for pending signals and
 * the select() itself would be seen only at the next record, so while jobs are out it also looks
 * every 100 ms.
 */
export const PERL_SERVER = `use strict;
use POSIX ();
$| = 1;
my (%jobs, %early, %keep);
my $buf = '';
sub status_of { my $w = shift; return ($w & 127) ? 128 + ($w & 127) : $w >> 8 }
sub reap {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $w = $?;
    my $id = delete $jobs{$pid};
    delete $keep{$id} if defined $id;
    if (defined $id) { print "E $id ", status_of($w), "\\n" } else { $early{$pid} = $w }
  }
}
# A CHLD handler can run in the middle of the main loop's reap(): it must leave that reap's $? alone.
$SIG{CHLD} = sub { local ($?, $!); reap() };
$SIG{PIPE} = 'IGNORE';
sub start {
  my ($id, $record) = @_;
  my ($kind, @fields) = split /\\0/, $record, -1;
  if ($kind eq 'F') {
    my $made = grep { POSIX::mkfifo($_, 0600) } @fields;
    print "S $id 0\\nE $id ", ($made == @fields ? 0 : 1), "\\n";
    return;
  }
  $keep{$id} = 1 if $kind eq 'G';
  my ($in, $out, $err, $cwd, $program, $argc, @rest) = @fields;
  my @argv = splice @rest, 0, $argc;
  my $pid = fork;
  if (!defined $pid) { print "S $id -1\\nE $id 126\\n"; return }
  if ($pid == 0) {
    $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'DEFAULT';
    POSIX::setpgid(0, 0);
    open(STDIN, '<', $in) && open(STDOUT, '>', $out) && open(STDERR, '>', $err) or POSIX::_exit(126);
    chdir($cwd) or POSIX::_exit(127);
    %ENV = map { split /=/, $_, 2 } @rest;
    exec { $program } @argv;
    POSIX::_exit(127);
  }
  POSIX::setpgid($pid, $pid);
  print "S $id $pid\\n";
  $jobs{$pid} = $id;
  if (exists $early{$pid}) { delete $jobs{$pid}; print "E $id ", status_of(delete $early{$pid}), "\\n" }
}
my $rin = ''; vec($rin, 0, 1) = 1;
for (;;) {
  my $ready = select(my $rout = $rin, undef, undef, %jobs ? 0.1 : undef);
  reap();
  next if $ready <= 0;
  my $got = sysread(STDIN, $buf, 65536, length $buf);
  if (!defined $got) { next if $!{EINTR}; last }
  last if $got == 0;
  while ($buf =~ /\\A(\\d+) (\\d+)\\n/ && length($buf) >= $+[0] + $2) {
    my ($id, $head, $len) = ($1, $+[0], $2);
    my $record = substr($buf, $head, $len);
    substr($buf, 0, $head + $len) = '';
    start($id, $record);
  }
}
kill 'KILL', map { -$_ } grep { !$keep{$jobs{$_}} } keys %jobs;
`;

/** perl from PATH, started with an empty environment (PERL5OPT and friends must not change it). */
export function perlServerCommand(env: NodeJS.ProcessEnv): { command: string; args: string[] } | undefined {
  const perl = findOnPath("perl", env);
  return perl === undefined ? undefined : { command: perl, args: ["-e", PERL_SERVER] };
}
