
00139nam a2200061 a 4500001000300000008004100003245003300044r1250101s2025    vm            000 0 vie d10aTruyện KiềucNguyễn Du
  00092nam a2200049 a 4500001000300000245003900003r210aCung oán ngâm khúccNguyễn Du
JUNK LINE that is not a record
00099nam a2200049 a 4500001000300000245004600003r310aĐoạn trường tân thanhcNguyễn Du
