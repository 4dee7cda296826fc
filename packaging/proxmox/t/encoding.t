#!/usr/bin/perl
# Requests and answers are UTF-8 JSON both ways, as PVE's encode_json/decode_json
# are: é (U+00E9, sent as one Latin-1 byte without ->utf8) and ☺ (U+263A, sent
# with a "Wide character" warning) reach linstor-pve as themselves, in a file
# name it opens and in a volume name it refuses, and come back as they went.
# No controller is needed: the calls end before the first request.

use strict;
use warnings;
use utf8;

use Encode qw(encode);
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;

use LINSTORPlugin;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $plugin = 'PVE::Storage::Custom::LINSTORPlugin';
my @warnings;
local $SIG{__WARN__} = sub { push @warnings, @_ };

my $dir = tempdir(CLEANUP => 1);

# Nothing listens on port 9; linstor-pve reads the token file before it parses the name.
sub storage_in {
    my ($folder) = @_;
    mkdir(encode('UTF-8', $folder)) or die "mkdir $folder: $!";
    open(my $token, '>', encode('UTF-8', "$folder/token")) or die "open $folder/token: $!";
    print {$token} "s3cret\n";
    close($token);
    return { type => 'linstor', resourcegroup => 'pvetest', controller => 'http://127.0.0.1:9',
        apitoken => "$folder/token" };
}

# é alone: the request holds no character above U+00FF, which is what JSON::PP without
# ->utf8 sent as Latin-1; with ☺ the whole request went as UTF-8, and warned.
my $scfg;
for my $name ('é', 'é☺') {
    $scfg = storage_in("$dir/$name");
    eval { $plugin->path($scfg, "vm-100-$name", 'ls') };
    like($@, qr/^invalid volname 'vm-100-\Q$name\E'/, 'the token file in a non-ASCII folder was found, '
        . 'and the refused name came back unchanged (' . length($name) . ' characters)');
}

eval { $plugin->path({ %$scfg, apitoken => "$dir/☺é/token" }, 'vm-100-disk-0', 'ls') };
like($@, qr/^cannot read the API token file \Q$dir\E\/☺é\/token/, 'a non-ASCII path in an error, unchanged');

is_deeply(\@warnings, [], 'no warning (no "Wide character in print")');
done_testing();
