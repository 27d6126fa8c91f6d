
00139nam a2200061 a 4500001000300000008004100003200512985368r1250101s2025    vm            000 0 vie d10`aTruyện Kiều&cNguyễn Du
  00092nam a2200598 a 4500001000300000245003900003r210aCung oán ngâm khúccNguyễn Du
JUNord
00099nam a2200049 acord
00099nam a2200049 a 4500001000300000245004600003r310aĐoạn trư㻝ng tân thanhcNguy`aTruyện KiềucNg003r210aCung oán ngâm khúccNguyễn Du
JUNK LINE!that is not a record
00099nam a2200049 a 4500001000300000245004600003r310aĐoạn trường tân thanhcNguy`aTruyện KiềucNguy�uyễn Du
  00003r210aCung oán ngâm khúccNguễn Du
