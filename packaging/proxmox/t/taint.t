#!/usr/bin/perl -T
# PVE's daemons run with -T: what the shim returns (read from linstor-pve's
# stdout, so tainted as it arrives) must be clean enough to exec with, as
# pvedaemon does with a disk's path when it starts a guest.

use strict;
use warnings;

use FindBin;
my $bin;
BEGIN { ($bin) = $FindBin::Bin =~ /\A(.*)\z/s }    # derived from $0: tainted
use lib "$bin/lib", "$bin/..";
use JSON::PP;
use Scalar::Util qw(tainted);
use Test::More;

use LINSTORPlugin;

# As pvedaemon does: a fixed PATH, here the stand-in's directory first.
$ENV{PATH} = "$bin/fake-bin:/usr/bin:/bin";
delete @ENV{qw(IFS CDPATH ENV BASH_ENV)};

my $plugin = 'PVE::Storage::Custom::LINSTORPlugin';
ok(tainted($ENV{HOME} // $0), 'running with -T (the environment is tainted)');

my $path = $plugin->path({}, 'vm-100-disk-0', 'ls');
is($path, '/dev/drbd1000', 'the stand-in answered');
ok(!tainted($path), 'the path is not tainted');
is(system('/bin/true', $path), 0, 'exec with the path does not die') or diag($@);

my ($size, $format) = $plugin->volume_size_info({}, 'ls', 'vm-100-disk-0');
is($format, 'raw', 'a hash answer');
ok(!tainted($format) && !tainted($size), 'strings inside a nested answer are untainted too');
is(JSON::PP->new->allow_nonref->encode($size), '1048576', 'numbers stay numbers');

# parse_volname runs here, on a name PVE hands over (tainted, as from a request).
open(my $self, '<', __FILE__) or die "cannot read myself: $!";
my $volname = substr(scalar(<$self>), 0, 0) . 'base-100-disk-0/vm-101-disk-2';    # data read: tainted
close($self);
ok(tainted($volname), 'the volume name is tainted');
my @parsed = $plugin->parse_volname($volname);
is_deeply(\@parsed, ['images', 'vm-101-disk-2', 101, 'base-100-disk-0', 100, 0, 'raw'], 'parsed');
ok(!grep({ defined($_) && tainted($_) } @parsed), 'parse_volname answers untainted strings');

# A command gone before it read the request: the write fails (no SIGPIPE kills the daemon)
# and the call dies with the usual message. 1 MiB: more than a pipe holds.
for my $size (10, 1 << 20) {
    my $answer = eval { PVE::Storage::Custom::LINSTORPlugin::_run('exit-early', { pad => 'x' x $size }); 1 };
    ok(!$answer, "a $size-byte request to a command that exits at once fails");
    like($@, qr/linstor-pve exit-early failed \(exit status 3\) without an answer/, 'and says so');
}

done_testing();
